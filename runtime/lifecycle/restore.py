"""restore: bring a checkpointed container back with criu (runc's Container.Restore).

The container is made as `create` makes it (state directory, config.json, its
cgroups with their limits), but criu, not pyrunc's init, brings its processes
into being: criu is put into the new cgroups and told to restore the tree as
its sibling (our child), under a bind of the rootfs (criu wants a mount point
there), with the image's external mounts mapped to this bundle's sources and
its stdio pipes to ours.  criu's notifications drive the rest: prestart and
createRuntime hooks once the namespaces exist, the pty master (a terminal) to
--console-socket.  Anything that fails is rolled back as a failed `create`.
"""

from __future__ import annotations

import os

from runtime.criu.options import DESCRIPTORS, CriuOptions, open_dir
from runtime.errors import PyruncError
from runtime.lifecycle.create import (
    _write_pid_file,
    creating_state,
    kill_and_uncgroup,
    load_bundle_config,
    rfc3339_now,
)
from runtime.log import log
from runtime.state.status import start_time
from runtime.state.store import CONFIG, Store, remove_dir, validate_id, write_json, write_new_json
from spec.config import has_hooks

LOG_FILE = "restore.log"
CRIU_ROOT = "criu-root"


class Restoration:
    """One `restore`: like create.Creation, each step records what it made."""

    def __init__(self, ctx, container_id: str, bundle: str, copts: CriuOptions, *,
                 detach: bool, console_socket: str = "", pid_file: str = "") -> None:
        self.ctx = ctx
        self.id = container_id
        self.bundle = bundle
        self.copts = copts
        self.detach = detach
        self.console_socket = console_socket
        self.pid_file = os.path.abspath(pid_file) if pid_file else ""
        self.dir = ""
        self.cgroup = None
        self.pid = 0
        self.state: dict = {}
        self.config: dict = {}
        self.master = -1      # the pty master criu handed us (a foreground terminal)
        self._console = -1    # the connected --console-socket

    def run(self) -> int:
        validate_id(self.id)
        config = load_bundle_config(self.bundle)
        self.config = config
        process = config.get("process") or {}
        terminal = bool(process.get("terminal"))
        from runtime.process.terminal import check_terminal

        check_terminal(terminal, self.detach, self.console_socket)
        if os.geteuid() != 0:
            log.warning("pyrunc restore is untested with rootless containers")
        root = (config.get("root") or {}).get("path") or "rootfs"
        rootfs = os.path.realpath(os.path.join(self.bundle, root))
        if not os.path.isdir(rootfs):
            raise PyruncError(f"rootfs ({rootfs}) does not exist")
        if not os.path.isdir(self.copts.image_path):
            raise PyruncError(f"image directory {self.copts.image_path}: no such directory "
                              "(criu not run, no log)")
        from runtime.criu.swrk import Criu

        criu = Criu(self.ctx.criu, self.copts.log_path(LOG_FILE))
        criu.require(30000, "restore")
        if self.copts.lsm_profile:
            criu.require(31600, "--lsm-profile")
        if self.copts.lsm_mount_context:
            criu.require(31600, "--lsm-mount-context")

        # From here on, everything is rolled back on failure.
        self.dir = Store(self.ctx.root).create_dir(self.id)
        self.state = creating_state(self.id, self.bundle, rootfs, config)
        write_new_json(self.dir, CONFIG, config)
        self._save()
        self._create_cgroups(config)
        if self.console_socket:
            from runtime.process.terminal import connect

            self._console = connect(self.console_socket)
        self._restore(criu, config, rootfs)
        return self.pid

    def _create_cgroups(self, config: dict) -> None:
        from runtime.cgroups import for_container

        linux = config.get("linux") or {}
        mgr = for_container(self.id, linux.get("cgroupsPath"), systemd=self.ctx.systemd_cgroup,
                            rootless=self.ctx.rootless == "true")
        self.cgroup = mgr
        mgr.create()
        self.state["cgroup"] = mgr.to_state()
        mgr.set(linux.get("resources") or {}, linux_devices=linux.get("devices"))
        self.state["cgroup"] = mgr.to_state()
        self._save()

    def _restore(self, criu, config: dict, rootfs: str) -> None:
        from runtime.criu.messages import load
        from runtime.criu.mounts import make_mountpoints, restore_external

        rpc = load()
        copts = self.copts
        fds: list[int] = []
        inherit: list[int] = []
        mounted = ""
        try:
            images = open_dir(copts.image_path, fds)
            work = -1
            if copts.work_path:
                copts.prepare_dirs()
                work = open_dir(copts.work_path, fds)
            req = rpc.criu_req()
            req.type = rpc.RESTORE
            o = req.opts
            copts.fill_common(o, rpc, images_fd=images, work_fd=work, log_file=LOG_FILE,
                              config=config)
            o.evasive_devices = True
            o.rst_sibling = True
            if copts.lsm_profile:
                o.lsm_profile = copts.lsm_profile
            if copts.lsm_mount_context:
                o.lsm_mount_context = copts.lsm_mount_context
            self._namespaces(o, config, criu, inherit)
            make_mountpoints(rootfs, config, self.bundle)
            assert self.cgroup is not None
            for key, val in restore_external(config, self.cgroup.to_state(), self.bundle):
                m = o.ext_mnt.add()
                m.key, m.val = key, val
            for i, name in enumerate(_descriptors(copts.image_path)):
                if "pipe:" in name:
                    fd = o.inherit_fd.add()
                    fd.key, fd.fd = name, i
            mounted = _bind_root(rootfs, os.path.join(self.dir, CRIU_ROOT))
            o.root = mounted
            resp = criu.call(req, notify=self._notify, inherit=inherit, stdio=True,
                             spawned=lambda pid: self._criu_in_cgroups(o, pid))
        finally:
            if mounted:
                _unbind_root(mounted)
            for fd in fds + inherit:
                os.close(fd)
        self.pid = self.pid or resp.restore.pid
        self._restored(config)

    def _namespaces(self, o, config: dict, criu, inherit: list[int]) -> None:
        """Namespaces joined by path: the network and pid ones were dumped as
        external and are handed back as inherited fds; the others are joined."""
        from runtime.lifecycle.checkpoint import ns_key
        from runtime.process.namespaces import KINDS

        for ns in (config.get("linux") or {}).get("namespaces") or []:
            kind, path = ns.get("type"), ns.get("path")
            if not path:
                continue
            name = KINDS[kind][1]
            if kind in ("network", "pid"):
                criu.require(31100 if kind == "network" else 31500,
                             f"an external {name} namespace")
                try:
                    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
                except OSError:
                    raise PyruncError(f"Requested network namespace {path} does not exist") \
                        from None
                inherit.append(fd)
                i = o.inherit_fd.add()
                i.key, i.fd = ns_key(name), fd
            elif kind == "cgroup":
                raise PyruncError("Do not know how to handle namespace cgroup")
            else:
                j = o.join_ns.add()
                j.ns, j.ns_file = name, path

    def _criu_in_cgroups(self, o, pid: int) -> None:
        """criu joins the container's cgroups before it restores anything, and its
        tasks' cgroups are re-rooted there (runc's criuApplyCgroups)."""
        assert self.cgroup is not None
        self.cgroup.apply(pid)
        with open(f"/proc/{pid}/cgroup") as f:
            for line in f:
                _, controllers, path = line.rstrip("\n").split(":", 2)
                for ctrl in controllers.split(",") if controllers else [""]:
                    r = o.cg_root.add()
                    r.ctrl, r.path = ctrl, path

    def _notify(self, script: str, pid: int, fds: list[int]) -> None:
        if script == "setup-namespaces":
            if has_hooks(self.config, "prestart", "createRuntime"):
                from runtime.lifecycle import hooks

                st = hooks.state(self.id, "creating", pid, self.bundle,
                                 self.state.get("annotations"))
                hooks.run("prestart", self.config, st, cwd=self.bundle)
                hooks.run("createRuntime", self.config, st, cwd=self.bundle)
        elif script == "network-unlock" and self.copts.tcp_established:
            from runtime.process.namespaces import Namespaces

            netns = Namespaces(self.config).joined.get("network")
            if netns:
                from runtime.criu.network_lock import drop_dump_lock

                drop_dump_lock(netns)
        elif script == "post-restore":
            self.pid = pid
        elif script == "orphan-pts-master":
            if not fds:
                raise PyruncError("criu sent no pty master")
            if self._console >= 0:
                from runtime.process.terminal import send_fd

                send_fd(self._console, fds[0], b"/dev/ptmx")
            else:
                self.master = os.dup(fds[0])

    def _restored(self, config: dict) -> None:
        self.state["pid"] = self.pid
        self.state["pid_start"] = start_time(self.pid)
        self.state["created"] = rfc3339_now()
        assert self.cgroup is not None
        self.state["cgroup"] = self.cgroup.to_state()
        del self.state["creating"]
        del self.state["creator"]
        if _own_time_namespace(self.pid) and not any(
                n.get("type") == "time" for n in (config.get("linux") or {}).get("namespaces")
                or []):
            # criu restores into a time namespace of its own (monotonic clocks go
            # on): `exec` joins it too, as runc records it.
            config.setdefault("linux", {}).setdefault("namespaces", []).append({"type": "time"})
            write_json(self.dir, CONFIG, config)
        self._save()
        if self.pid_file:
            _write_pid_file(self.pid_file, self.pid)

    def _save(self) -> None:
        write_json(self.dir, "state.json", self.state)

    def close(self) -> None:
        if self._console >= 0:
            os.close(self._console)
            self._console = -1

    def rollback(self) -> None:
        self.close()
        if self.master >= 0:
            os.close(self.master)
            self.master = -1
        # criu kills what it restored when it fails; the cgroups may be shared
        # (a cgroupsPath another container uses): only removed, never emptied.
        kill_and_uncgroup(self.pid, self.cgroup)
        if self.dir:
            remove_dir(self.dir)


def _descriptors(image_path: str) -> list[str]:
    """The dumped init's stdio (checkpoint.py wrote it); none if the file is
    missing (criu then says what else is)."""
    from spec.jsonio import loads

    try:
        with open(os.path.join(image_path, DESCRIPTORS), "rb") as f:
            names = loads(f.read())
    except FileNotFoundError:
        return []
    except (OSError, ValueError) as e:
        raise PyruncError(f"read {DESCRIPTORS} in {image_path}: {e}") from None
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise PyruncError(f"{DESCRIPTORS} in {image_path} is damaged")
    return names


def _bind_root(rootfs: str, target: str) -> str:
    """criu's root must be a mount point whose parent is not overmounted: a
    recursive bind of the rootfs in the state directory."""
    from runtime.native import ffi, lib

    os.mkdir(target, 0o755)
    if lib.mount(rootfs.encode(), target.encode(), ffi.NULL, lib.MS_BIND | lib.MS_REC,
                 ffi.NULL) != 0:
        err = ffi.errno
        os.rmdir(target)
        raise PyruncError(f"bind mount {rootfs} on {target}: {os.strerror(err).lower()}")
    return target


def _unbind_root(target: str) -> None:
    from runtime.native import ffi, lib

    if lib.umount2(target.encode(), lib.MNT_DETACH) != 0:
        log.warning(f"unmount {target}: {os.strerror(ffi.errno).lower()}")
    try:
        os.rmdir(target)
    except OSError:
        pass


def _own_time_namespace(pid: int) -> bool:
    try:
        return os.stat(f"/proc/{pid}/ns/time").st_ino != os.stat("/proc/self/ns/time").st_ino
    except OSError:
        return False


def restore(ctx, container_id: str, bundle: str, copts: CriuOptions, *, detach: bool,
            console_socket: str = "", pid_file: str = "", no_subreaper: bool = False) -> int:
    """Restore the container; detached: return 0 once it runs, else wait for it,
    delete it and return its exit status (128+N for signal N), as runc."""
    from runtime.lifecycle.run import Foreground, become_subreaper, reap_adopted, wait_status

    r = Restoration(ctx, container_id, os.path.abspath(bundle or "."), copts, detach=detach,
                    console_socket=console_socket, pid_file=pid_file)
    if detach:
        try:
            r.run()
        except BaseException:
            r.rollback()
            raise
        r.close()
        return 0
    subreaper = not no_subreaper
    host = None
    if (_wants_terminal(r.bundle)):
        from runtime.process.terminal import HostConsole

        host = HostConsole()
    with Foreground() as fg:
        if subreaper:
            become_subreaper()  # before criu: the restored tree's orphans come to us
        try:
            r.run()
        except BaseException:
            r.rollback()
            raise
        r.close()
        fg.attach(r.pid)
        try:
            if host is not None and r.master >= 0:
                from runtime.process.terminal import relay

                host.set_raw()
                pidfd = os.pidfd_open(r.pid)
                try:
                    relay(r.master, host, pidfd)
                finally:
                    os.close(pidfd)
            status = wait_status(r.pid, reap_others=subreaper)
        finally:
            if host is not None:
                host.restore()
            if r.master >= 0:
                os.close(r.master)
    from runtime.lifecycle.delete import delete

    delete(ctx, container_id, force=True)
    if subreaper:
        reap_adopted()
    return status


def _wants_terminal(bundle: str) -> bool:
    from runtime.lifecycle.run import _wants_terminal as wants

    return wants(bundle)
