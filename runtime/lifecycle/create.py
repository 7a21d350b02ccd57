"""create: set up a container from its bundle and leave its init waiting for `start`.

The runtime spawns the init through the native plan and drives it through
its sync points (see runtime/process/init_plan.py).  Anything that fails
rolls back everything created so far: process, cgroups, state directory.
"""

from __future__ import annotations

import _signal as signal  # the signal module's enums cost ~3 ms
import os
import time

from runtime import SPEC_VERSION
from runtime.errors import PyruncError
from runtime.log import log, trace
from runtime.process import stdio
from runtime.state.status import start_time
from runtime.state.store import (
    CONFIG,
    START_SOCKET,
    Store,
    remove_dir,
    validate_id,
    write_json,
    write_new_json,
)
from spec.config import has_hooks

TYPE_CHECKING = False  # typing costs ~7 ms of imports
if TYPE_CHECKING:
    from collections.abc import Callable

    from runtime.lifecycle.container import Container
    from runtime.process.namespaces import Namespaces


def load_bundle_config(bundle: str) -> dict:
    """config.json parsed and validated (`exec` takes its process from it)."""
    from spec.config import ConfigError, load_config

    try:
        return load_config(bundle)
    except ConfigError as e:
        raise PyruncError(str(e)) from None


def read_bundle_config(bundle: str) -> dict:
    """config.json parsed; validated already unless early_fields_sane() holds."""
    from spec.config import ConfigError, read_config

    try:
        config = read_config(bundle)
        if not early_fields_sane(config):
            check_bundle_config(bundle, config)
    except ConfigError as e:
        raise PyruncError(str(e)) from None
    return config  # type: ignore[return-value]


def check_bundle_config(bundle: str, config: object) -> None:
    from spec.config import ConfigError, check_loaded

    try:
        check_loaded(bundle, config)
    except ConfigError as e:
        raise PyruncError(str(e)) from None


def early_fields_sane(config: object) -> bool:
    """Whether the fields used before validation (the state and the cgroups, made
    first) have the types the schema says."""
    if not isinstance(config, dict):
        return False
    linux, root = config.get("linux"), config.get("root")
    return (isinstance(linux, (dict, type(None))) and isinstance(root, (dict, type(None)))
            and isinstance((linux or {}).get("cgroupsPath"), (str, type(None)))
            and isinstance((root or {}).get("path"), (str, type(None)))
            and isinstance(config.get("annotations"), (dict, type(None))))


def rfc3339_now() -> str:
    ns = time.time_ns()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ns // 10**9)) + f".{ns % 10**9:09d}Z"


def creating_state(cid: str, bundle: str, rootfs: str, config: dict) -> dict:
    """state.json of a container being created (or restored) by this process: a
    "creating" one whose creator is gone was killed mid-create (delete --force)."""
    me = os.getpid()
    return {
        "id": cid, "pid": 0, "bundle": bundle, "rootfs": rootfs,
        "created": rfc3339_now(), "owner": "",
        "annotations": config.get("annotations") or {},
        "creating": True, "creator": {"pid": me, "start": start_time(me)},
    }


def kill_and_uncgroup(pid: int, cgroup) -> None:
    """Undo a create (or a restore): kill and reap its process, remove its cgroups
    (a failure there is reported, and the undoing goes on)."""
    if pid:
        try:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        except OSError:
            pass
    if cgroup is not None:
        try:
            cgroup.destroy()
        except Exception as e:  # noqa: BLE001 - report, keep undoing
            log.warning(f"remove cgroups: {e}")


class Creation:
    """One `create`: each step records what it made, so rollback() can undo it."""

    def __init__(self, ctx, container_id: str, bundle: str, *, pid_file: str = "",
                 console_socket: str = "", no_pivot: bool = False, preserve_fds: int = 0,
                 console_fd: int = -1, pidfd_socket: str = "", chown_stdio: bool = True,
                 no_new_keyring: bool = False,
                 meanwhile: Callable[[], None] | None = None) -> None:
        self.ctx = ctx
        self.id = container_id
        self.bundle = bundle
        self.pid_file = os.path.abspath(pid_file) if pid_file else ""
        self.console_socket = console_socket
        self.no_pivot = no_pivot
        self.preserve_fds = preserve_fds
        self.console_fd = console_fd      # a foreground `run` receives the pty here
        self.pidfd_socket = pidfd_socket
        self.chown_stdio = chown_stdio    # False: stdio is a foreground caller's own
        self.no_new_keyring = no_new_keyring
        # Run while the init sets up its rootfs (a foreground `run` imports start
        # and delete then): the runtime would only wait for it.
        self.meanwhile = meanwhile
        self.dir = ""
        self.cgroup = None
        self.joined: set[str] = set()     # cgroups the init joined by itself
        self.channel = None
        self.pid = 0
        self.state: dict = {}
        self.config: dict = {}
        self._resources_set = False

    # -- the steps ---------------------------------------------------------
    def run(self) -> int:
        validate_id(self.id)
        stdio.ensure_stdio()
        config = read_bundle_config(self.bundle)
        self.config = config
        root = (config.get("root") or {}).get("path") or "rootfs"
        cgroups_path = (config.get("linux") or {}).get("cgroupsPath") or ""
        rootfs = os.path.realpath(os.path.join(self.bundle, root))
        if trace:
            trace(f"create {self.id}: read {self.bundle}/config.json")

        # Anything refused from here on is rolled back.
        self.dir = Store(self.ctx.root).create_dir(self.id)
        self.state = creating_state(self.id, self.bundle, rootfs, config)
        if self.ctx.systemd_cgroup:
            self.state["systemd_cgroup"] = True  # for a delete --force of a killed create
        if self.no_new_keyring:
            self.state["no_new_keyring"] = True  # `exec` keeps its caller's keyring too
        # A new file in a new directory, read only once state.json exists: no
        # temporary file and rename.
        write_new_json(self.dir, CONFIG, config)
        self._save()
        # Until the "cgroups" sync the cgroups are not in state.json: a delete
        # --force after a crash finds them from config.json (delete.py).
        self._create_cgroups(config)
        if trace:
            paths = self.state["cgroup"].get("paths") or {}
            trace(f"create: made the state directory {self.dir} and the cgroups "
                  f"{cgroups_path or self.id!r} in {len(paths)} hierarchies")

        check_bundle_config(self.bundle, config)
        # Limits before the init joins (runc sets them after): the init joins by
        # itself (process/cgroup_join.py) and is limited from its first
        # instruction in the container's cgroups.
        self._set_resources(config.get("linux") or {})
        if trace:
            trace("create: config.json validated, cgroup limits set")
        process = config.get("process")
        if not process or not process.get("args"):
            raise PyruncError("process.args must be set in config.json to create a container")
        if not (process.get("cwd") or "/").startswith("/"):
            raise PyruncError(f"process.cwd {process['cwd']!r} must be an absolute path")
        from runtime.process import init_plan, preflight, security
        from runtime.process.cgroup_mount import make_handler
        from runtime.process.namespaces import Namespaces

        # The terminal module only when used, as the hooks (~0.5 ms of imports).
        if process.get("terminal") or self.console_socket or self.pidfd_socket:
            from runtime.process import terminal
        if self.console_fd < 0 and (process.get("terminal") or self.console_socket):
            terminal.check_terminal(bool(process.get("terminal")), True, self.console_socket)
        activation = stdio.listen_fds()
        stdio.check_preserved(3 + activation, self.preserve_fds)
        if not os.path.isdir(rootfs):
            if not os.access(os.path.dirname(rootfs) or ".", os.X_OK):
                raise PyruncError(f"invalid rootfs: stat {rootfs}: permission denied")
            raise PyruncError(f"rootfs ({rootfs}) does not exist")
        ns = Namespaces(config)
        self.security = security.prepare(config, ns, no_pivot=self.no_pivot)
        preflight.check(config, ns)

        console, pidfd_conn = self.console_fd, -1
        if console < 0 and process.get("terminal"):
            console = terminal.connect(self.console_socket)
        if self.pidfd_socket:
            pidfd_conn = terminal.connect(self.pidfd_socket)
        listener = _listen(os.path.join(self.dir, START_SOCKET))
        joined = ns.open_joined()
        from runtime.process.mount_options import wants_idmap

        trees = None  # idmapped mounts' trees: the module only when some mount wants one
        if any(wants_idmap(m) for m in config.get("mounts") or []):
            from runtime.process.idmap import IdmapTrees

            trees = IdmapTrees(config.get("linux") or {}, "user" in ns.new)
        from runtime.cgroups import BEST_EFFORT
        from runtime.process.cgroup_join import CgroupJoin

        join = CgroupJoin(self.cgroup.joinable_paths(), best_effort=BEST_EFFORT)
        source_fds: list[int] = []
        try:
            opts = init_plan.InitOptions(
                bundle=self.bundle, rootfs=rootfs, listener_fd=listener,
                no_pivot=self.no_pivot, preserve_fds=activation + self.preserve_fds,
                has_hooks=has_hooks(config, "prestart", "createRuntime", "createContainer"),
                cgroup_mount=make_handler(self.state["cgroup"]), console_fd=console,
                console_relayed=self.console_fd >= 0,
                extra_env=stdio.activation_env(activation),
                fix_stdio=self.chown_stdio or bool(process.get("terminal")),
                keyring_of="" if self.no_new_keyring else self.id)
            opts.idmap = trees
            opts.cgroup_join = join
            opts.source_fds = source_fds
            if self.security.seccomp is not None:
                opts.seccomp = self.security.seccomp.bpf
                opts.seccomp_flags = self.security.seccomp.flags
                opts.seccomp_notify = self.security.seccomp.notify
            plan = init_plan.build(config, ns, joined, opts)
            if trace:
                trace(f"create: the init's plan has {len(plan.ops)} steps")
            from runtime.native.channel import Channel

            self.channel = Channel(plan)
            self.pid = self.channel.spawn()
            if trace:
                trace(f"create: cloned the init, pid {self.pid}")
            if pidfd_conn >= 0:
                terminal.send_pidfd(pidfd_conn, self.pid, b"standard")
            self.joined = join.keys
        finally:
            if trees is not None:
                trees.close()  # the container process has its own copies
            join.close()
            for fd in source_fds:   # the init has its own copies
                os.close(fd)
            os.close(listener)
            for _, fd, _ in joined:
                os.close(fd)
            for fd in (console if console != self.console_fd else -1, pidfd_conn):
                if fd >= 0:
                    os.close(fd)
        self._drive(config, ns)
        return self.pid

    def _create_cgroups(self, config: dict) -> None:
        from runtime.cgroups import for_container

        linux = config.get("linux") or {}
        mgr = for_container(self.id, linux.get("cgroupsPath"), systemd=self.ctx.systemd_cgroup,
                            rootless=self.ctx.rootless_cgroups,
                            annotations=config.get("annotations"))
        self.cgroup = mgr
        # As runc's Create: a cgroup made before us may hold processes (a warning)
        # and must not be frozen (the init would stop in it: refused).
        if mgr.freezer_state() == "FROZEN":
            self.cgroup = None      # not ours to remove
            raise PyruncError("container's cgroup unexpectedly frozen")
        if mgr.joins_existing and mgr.exists():
            pids = mgr.pids()
            if pids:
                log.warning(f"container's cgroup is not empty: {len(pids)} process(es) found")
        mgr.create()
        self.state["cgroup"] = mgr.to_state()

    def _drive(self, config: dict, ns: Namespaces) -> None:
        """Answer the child's sync points until it waits for `start`.

        state.json is rewritten twice, each time right after an ack, while the
        init works on: with its pid and cgroups once it is in them, and as
        "created" once its limits are set.  Until "waiting" the init dies with
        us (PR_SET_PDEATHSIG), so a crash in between leaves nothing that the
        saved state does not name."""
        from runtime.process import parent

        linux = config.get("linux") or {}
        process = config["process"]
        assert self.channel is not None and self.cgroup is not None
        while True:
            name, fd = self.channel.wait_sync()
            if trace and name != "fd":
                from runtime.debug import init_steps

                trace(f"init: {init_steps(self.channel.plan, name)}; waits at sync {name!r}")
            try:
                if name == "fd":  # the seccomp notify fd; the child does not wait
                    from runtime.process import seccomp

                    seccomp.send_notify_fd(self.security.seccomp, fd,
                                           self.oci_state("creating"), self.pid)
                    continue
                if name == "cgroups":
                    self.cgroup.apply(self.pid, self.joined)
                    if "user" in ns.new:
                        parent.write_id_mappings(self.pid, linux)
                    if "time" in ns.new:
                        parent.write_time_offsets(self.pid, linux.get("timeOffsets") or {})
                    if "oomScoreAdj" in process:
                        parent.set_oom_score_adj(self.pid, int(process["oomScoreAdj"]))
                    if linux.get("netDevices"):
                        from runtime.process import netdevices

                        netdevices.move_all(self.pid, linux["netDevices"])
                elif name == "hooks":
                    # Limits first, as runc: a prestart hook may adjust cgroup
                    # permissions (device rules) that a later set would undo.
                    self._set_resources(linux)
                    self._run_create_hooks(config, ns)
                elif name == "ready":
                    self._set_resources(linux)
                    parent.set_rlimits(self.pid, self.security.rlimits)
                elif name == "waiting":
                    if self.pid_file:
                        _write_pid_file(self.pid_file, self.pid)
                    self.channel.ack()
                    if trace:
                        trace("create: the init waits for start on start.sock")
                    return
            finally:
                if fd >= 0:
                    os.close(fd)
            self.channel.ack()
            if trace:
                trace(f"create: done at sync {name!r}, the init goes on")
            if name == "cgroups":
                self.state["pid"] = self.pid
                self.state["pid_start"] = start_time(self.pid)
                self.state["cgroup"] = self.cgroup.to_state()  # apply() may drop some
                self._save()
                if self.meanwhile is not None:
                    self.meanwhile()
            elif name == "ready":
                self.state["cgroup"] = self.cgroup.to_state()
                del self.state["creating"]
                del self.state["creator"]
                self._save()

    def _set_resources(self, linux: dict) -> None:
        if not self._resources_set:
            assert self.cgroup is not None
            self.cgroup.set(linux.get("resources") or {}, linux_devices=linux.get("devices"))
            self._resources_set = True

    def _run_create_hooks(self, config: dict, ns: Namespaces) -> None:
        from runtime.lifecycle import hooks

        st = hooks.state(self.id, "creating", self.pid, self.bundle, self.state.get("annotations"))
        hooks.run("prestart", config, st, cwd=self.bundle)
        hooks.run("createRuntime", config, st, cwd=self.bundle)
        from runtime.process.namespaces import KINDS

        nstypes = 0
        for kind in ns.new | set(ns.joined):
            nstypes |= KINDS[kind][0]
        # Before pivot_root: the hook's path resolves as on the host, its cwd is the rootfs.
        hooks.run("createContainer", config, st, ns_pid=self.pid, nstypes=nstypes,
                  cwd=self.state["rootfs"])

    def oci_state(self, status: str) -> dict:
        doc = {"ociVersion": SPEC_VERSION, "id": self.id, "status": status, "pid": self.pid,
               "bundle": self.bundle}
        if self.state.get("annotations"):
            doc["annotations"] = self.state["annotations"]
        return doc

    def _save(self) -> None:
        write_json(self.dir, "state.json", self.state)

    # -- undo ----------------------------------------------------------------
    def rollback(self) -> None:
        if self.channel is not None:
            self.channel.close()
        kill_and_uncgroup(self.pid, self.cgroup)
        if self.pid and has_hooks(self.config, "poststop"):
            from runtime.lifecycle import hooks

            # runtime.md, Lifecycle steps 12-13: the container is destroyed, then
            # poststop hooks run (warnings only), as after a `delete`.
            st = hooks.state(self.id, "stopped", 0, self.bundle, self.state.get("annotations"))
            hooks.run("poststop", self.config, st, cwd=self.bundle, warn_only=True)
        if self.dir:
            remove_dir(self.dir)


def _listen(path: str) -> int:
    from runtime.native import lib

    fd = lib.pyrunc_listen_unix(path.encode())
    if fd < 0:
        raise PyruncError(f"listen on {path}: {os.strerror(-fd)}")
    return fd


def _write_pid_file(path: str, pid: int) -> None:
    tmp = os.path.join(os.path.dirname(path), f".{os.path.basename(path)}")
    try:
        with open(tmp, "w") as f:
            f.write(str(pid))
        os.rename(tmp, path)
    except OSError as e:
        raise PyruncError(f"write pid file {path}: {e.strerror}") from None


def create(ctx, container_id: str, bundle: str, **kwargs) -> Container:
    """Create the container; returns it, as `start` and `delete` would load it.
    Leaves nothing behind on failure."""
    c = Creation(ctx, container_id, os.path.abspath(bundle or "."), **kwargs)
    try:
        c.run()
    except BaseException:
        c.rollback()
        raise
    if c.channel is not None:
        c.channel.close()
    from runtime.lifecycle.container import Container

    return Container.created_here(Store(ctx.root), container_id, c.state, c.config)
