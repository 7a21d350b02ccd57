"""exec: run a new process in a running container, as `runc exec` does.

The process spec comes from --process (a JSON file) or from the bundle's
config.json with the command line's overrides (process_from_bundle).  The
process joins every namespace the container has (through the init's
/proc/<pid>/ns, opened once the init is known to be the container's), its
cgroups (with --cgroup sub-cgroups), and gets its user, capabilities, rlimits,
no_new_privs, LSM labels and the container's seccomp filter.  In the
foreground the runtime forwards signals and exits with the process's status;
with a terminal it relays the pty to its own terminal.
"""

from __future__ import annotations

import errno
import os

from runtime.errors import ChildError, PyruncError
from runtime.lifecycle.container import Container
from runtime.log import trace
from runtime.state.store import Store
from spec.jsonio import clone, loads

# The native path and the process modules (~5 ms of imports) are imported once the
# container's state has been checked (exec_process), as runc checks it first.
TYPE_CHECKING = False  # typing costs ~7 ms of imports
if TYPE_CHECKING:
    from collections.abc import Callable

    from runtime.native.channel import Channel
    from runtime.process.terminal import HostConsole


class ExecRequest:
    """The command line's choices besides the process spec."""

    def __init__(self, *, detach: bool = False, console_socket: str = "", pid_file: str = "",
                 preserve_fds: int = 0, ignore_paused: bool = False,
                 cgroups: list[str] | None = None, pidfd_socket: str = "") -> None:
        self.detach = detach
        self.console_socket = console_socket
        self.pid_file = os.path.abspath(pid_file) if pid_file else ""
        self.preserve_fds = preserve_fds
        self.ignore_paused = ignore_paused
        self.cgroups = cgroups or []
        self.pidfd_socket = pidfd_socket


# -- the process spec --------------------------------------------------------------------
def process_from_file(path: str) -> dict:
    try:
        with open(path, "rb") as f:
            process = loads(f.read())
    except OSError as e:
        raise PyruncError(f"open {path}: {(e.strerror or '').lower()}") from None
    except ValueError as e:
        raise PyruncError(f"decode {path}: {e}") from None
    if not isinstance(process, dict):
        raise PyruncError("process property must not be empty")
    validate_process(process)
    return process


def process_from_bundle(bundle_config: dict, args: list[str], *, cwd: str = "",
                        env: list[str] | None = None, tty: bool = False, user: str = "",
                        additional_gids: list[int] | None = None, caps: list[str] | None = None,
                        no_new_privs: bool | None = None, apparmor: str = "",
                        process_label: str = "") -> dict:
    """runc's getProcess: the bundle's process with the command line's overrides."""
    p = clone(bundle_config.get("process") or {})
    p["args"] = list(args)
    if cwd:
        p["cwd"] = cwd
    if apparmor:
        p["apparmorProfile"] = apparmor
    if process_label:
        p["selinuxLabel"] = process_label
    if caps:
        sets = p.setdefault("capabilities", {})
        for key in ("bounding", "effective", "permitted", "ambient"):
            sets[key] = [*(sets.get(key) or []), *caps]
    p["env"] = [*(p.get("env") or []), *(env or [])]
    p["terminal"] = tty
    if no_new_privs is not None:
        p["noNewPrivileges"] = no_new_privs
    u = p.setdefault("user", {})
    if user:
        uid, sep, gid = user.partition(":")
        if sep:
            u["gid"] = _atoi(gid, "gid")
        u["uid"] = _atoi(uid, "uid")
    for gid in additional_gids or []:
        if gid < 0:
            raise PyruncError(f"additional-gids must be a positive number {gid}")
        u["additionalGids"] = [*(u.get("additionalGids") or []), gid]
    validate_process(p)
    return p


def _atoi(text: str, what: str) -> int:
    try:
        if not text.strip("+-").isdigit():
            raise ValueError
        return int(text, 10)
    except ValueError:
        raise PyruncError(f'parsing {text} as int for {what} failed: strconv.Atoi: parsing '
                          f'"{text}": invalid syntax') from None


def validate_process(p: dict) -> None:
    """runc's validateProcessSpec, then the LSM checks create makes."""
    cwd = p.get("cwd") or ""
    if not cwd:
        raise PyruncError("Cwd property must not be empty")
    if not cwd.startswith("/"):
        raise PyruncError("Cwd must be an absolute path")
    if not p.get("args"):
        raise PyruncError("args must not be empty")
    from runtime.process import lsm

    lsm.check({"process": p})


def with_container_defaults(process: dict, config: dict) -> dict:
    """What runc takes from the container when the process spec leaves it out:
    capabilities, rlimits and the LSM labels."""
    container = config.get("process") or {}
    out = dict(process)
    if out.get("capabilities") is None and container.get("capabilities") is not None:
        out["capabilities"] = container["capabilities"]  # only when absent: {} drops all
    for key in ("rlimits", "apparmorProfile", "selinuxLabel"):
        if not out.get(key) and container.get(key):
            out[key] = container[key]
    return out


# -- running it ------------------------------------------------------------------------------
def exec_process(ctx, container_id: str, make_process: Callable[[Container], dict],
                 req: ExecRequest) -> int:
    """Start the process make_process(container) describes in the container; its exit
    status in the foreground, else 0.  As runc: the container's state is checked first."""
    c = Container.load(Store(ctx.root), container_id)
    status = c.status()
    if status == "stopped":
        raise PyruncError("cannot exec in a stopped container")
    if status == "paused" and not req.ignore_paused:
        raise PyruncError("cannot exec in a paused container (use --ignore-paused to override)")
    if status == "creating":
        raise PyruncError("cannot exec in a container that is still being created")
    cgroup_paths, strict = cgroup_paths_for(c.state.get("cgroup") or {}, req.cgroups)
    if trace:
        trace(f"exec {container_id}: the container is {status}")
    from runtime.process import parent, stdio, terminal

    process = make_process(c)
    tty = bool(process.get("terminal"))
    terminal.check_terminal(tty, req.detach, req.console_socket)
    config = c.config()
    process = with_container_defaults(process, config)
    stdio.ensure_stdio()
    stdio.check_preserved(3, req.preserve_fds)
    rlimits = parent.check_rlimits(process)
    seccomp = _seccomp(config)
    host = terminal.HostConsole() if tty and not req.detach else None
    run = _Exec(c, config, process, req, host)
    try:
        return run.start(rlimits, seccomp, cgroup_paths, strict)
    finally:
        run.close()


class _Exec:
    """One exec: every fd it opens and the process it starts are undone by close()."""

    def __init__(self, c: Container, config: dict, process: dict, req: ExecRequest,
                 host: HostConsole | None) -> None:
        self.c = c
        self.config = config
        self.process = process
        self.req = req
        self.host = host
        self.fds: list[int] = []
        self.channel: Channel | None = None
        self.pid = 0                 # not 0 while the process is ours to kill on failure

    def start(self, rlimits: list, seccomp, cgroup_paths: dict[str, str],
              strict: set[str]) -> int:
        from runtime.cgroups import BEST_EFFORT
        from runtime.lifecycle.run import Foreground
        from runtime.native.channel import Channel
        from runtime.process import exec_plan, terminal
        from runtime.process.cgroup_join import CgroupJoin

        root, joined = self._open_init()
        tty = bool(self.process.get("terminal"))
        console = ours = -1
        if tty and self.req.detach:
            console = self._keep(terminal.connect(self.req.console_socket))
        elif tty:
            ours, console = (self._keep(fd) for fd in terminal.socketpair())
        pidfd_conn = (self._keep(terminal.connect(self.req.pidfd_socket))
                      if self.req.pidfd_socket else -1)
        uid = int((self.process.get("user") or {}).get("uid", 0))
        opts = exec_plan.ExecOptions(
            preserve_fds=self.req.preserve_fds, console_fd=console, seccomp=seccomp,
            # In the foreground without a terminal, stdio is the caller's own.
            chown_stdio=self.req.detach or tty, home=exec_plan.home_in_root(root, uid),
            relayed=tty and not self.req.detach,
            keyring_of="" if self.c.state.get("no_new_keyring") else self.c.id)
        join = opts.cgroup_join = CgroupJoin(
            cgroup_paths, best_effort=[k for k in BEST_EFFORT if k not in strict])
        try:
            plan = exec_plan.build(self.process, self.config, joined, opts)
            if trace:
                trace(f"exec: opened the init's namespaces; the plan has {len(plan.ops)} steps")
            with Foreground() as fg:
                self.channel = Channel(plan)
                try:
                    self.pid = self.channel.spawn()  # pyrunc-init is reaped there
                finally:
                    join.close()
                for fd in [console, root, *(fd for _, fd, _ in joined)]:
                    self._close(fd)
                if trace:
                    trace(f"exec: cloned the process into the container, pid {self.pid}")
                self._join_cgroups(cgroup_paths, strict, join.keys)
                return self._run(fg, rlimits, seccomp, pidfd_conn, ours)
        finally:
            join.close()

    def _run(self, fg, rlimits: list, seccomp, pidfd_conn: int, ours: int) -> int:
        """From the "cgroups" sync on: the process execs, then runs (foreground) or not."""
        from runtime.lifecycle.run import wait_status
        from runtime.process import parent, terminal

        assert self.channel is not None
        parent.set_rlimits(self.pid, rlimits)
        self.channel.ack()
        if trace:
            trace("exec: joined the cgroups, set the rlimits")
        self._wait_exec(seccomp)
        if trace:
            from runtime.debug import exec_steps

            trace(f"exec: the process exec'd after: {exec_steps(self.channel.plan)}")
        if pidfd_conn >= 0:
            terminal.send_pidfd(pidfd_conn, self.pid, b"setns")
        if self.req.pid_file:
            _write_pid_file(self.req.pid_file, self.pid)
        if self.req.detach:
            self.pid = 0
            return 0
        fg.attach(self.pid)
        if self.host is not None:
            self._relay(ours)
        status = wait_status(self.pid)
        self.pid = 0
        if trace:
            trace(f"exec: the process exited, status {status}")
        return status

    def _keep(self, fd: int) -> int:
        self.fds.append(fd)
        return fd

    def _close(self, fd: int) -> None:
        if fd in self.fds:
            self.fds.remove(fd)
            os.close(fd)

    def _open_init(self) -> tuple[int, list[tuple[str, int, str]]]:
        """The init's root and namespaces, pid-reuse safe: opened through /proc/<pid>
        while a pidfd shows that the init is still the container's."""
        import select

        from runtime.process.namespaces import JOIN_ORDER, KINDS, Namespaces
        from runtime.state.status import start_time

        pid, started = self.c.pid, self.c.state.get("pid_start")
        try:
            pidfd = self._keep(os.pidfd_open(pid))
            proc = self._keep(os.open(f"/proc/{pid}", os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC))
        except OSError:
            raise PyruncError("cannot exec in a stopped container") from None
        if start_time(pid) != started:
            raise PyruncError("cannot exec in a stopped container")
        ns = Namespaces(self.config)
        joined = []
        try:
            for kind in JOIN_ORDER:
                if ns.has(kind):
                    name = KINDS[kind][1]
                    fd = self._keep(os.open(f"ns/{name}", os.O_RDONLY | os.O_CLOEXEC, dir_fd=proc))
                    joined.append((kind, fd, f"/proc/{pid}/ns/{name}"))
            root = self._keep(os.open("root", os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC,
                                      dir_fd=proc))
        except OSError as e:
            raise PyruncError("open the namespaces of the container's init: "
                              f"{(e.strerror or '').lower()}") from None
        if select.select([pidfd], [], [], 0)[0]:
            raise PyruncError("cannot exec in a stopped container")  # it died meanwhile
        self._close(proc)
        self._close(pidfd)
        return root, joined

    def _join_cgroups(self, paths: dict[str, str], strict: set[str], joined: set[str]) -> None:
        """At the "cgroups" sync: into every cgroup of the container (or its --cgroup
        sub-cgroups) before the process does anything in the container.  It joined
        the ``joined`` ones itself (process/cgroup_join.py)."""
        from runtime.cgroups import BEST_EFFORT, CgroupError
        from runtime.cgroups.interface import joined_itself, write_procs

        assert self.channel is not None
        name, _ = self.channel.wait_sync()
        if trace:
            from runtime.debug import init_steps

            trace(f"exec: the process: {init_steps(self.channel.plan, name)}; "
                  f"waits at sync {name!r}")
        if name != "cgroups":
            raise PyruncError(f"unexpected sync point {name!r} of the exec process")
        for key, path in paths.items():
            if joined_itself(key, path, self.pid, joined):
                continue
            try:
                write_procs(path, self.pid)
            except CgroupError as e:
                if key in BEST_EFFORT and key not in strict:
                    continue
                raise PyruncError(f"error adding pid {self.pid} to cgroups: {e}") from None

    def _wait_exec(self, seccomp) -> None:
        """Read the sync socket until it closes: its close-on-exec end goes with execve.
        An error is the failing step; a seccomp notify fd goes to the agent."""
        from runtime.native import ffi, lib

        assert self.channel is not None
        msg = ffi.new("struct pyrunc_msg *")
        fdp = ffi.new("int *", -1)
        while True:
            r = lib.pyrunc_recv_msg(self.channel.fd, msg, fdp, -1)
            if r == -errno.EPIPE:
                return
            if r < 0:
                raise PyruncError(f"reading from the exec process: {os.strerror(-r)}")
            if msg.type == lib.MSG_ERROR:
                what = (ffi.string(msg.text).decode(errors="replace")
                        or self.channel.plan.describe(msg.op_index))
                err = int(msg.err)
                raise ChildError(f"{what}: {os.strerror(err)}" if err else what, err)
            if msg.type == lib.MSG_FD and fdp[0] >= 0:
                from runtime.process import seccomp as seccomp_mod

                try:
                    seccomp_mod.send_notify_fd(seccomp, fdp[0], self.c.oci_state(), self.pid)
                finally:
                    os.close(fdp[0])

    def _relay(self, ours: int) -> None:
        from runtime.process import terminal

        assert self.host is not None
        master = self._keep(terminal.receive_master(ours))
        pidfd = self._keep(os.pidfd_open(self.pid))
        self.host.set_raw()
        terminal.relay(master, self.host, pidfd)

    def close(self) -> None:
        """A process that failed on its way to execve, or whose runtime failed after,
        is killed (runc's terminate); our fds are closed, the terminal restored."""
        if self.pid:
            import signal

            try:
                os.kill(self.pid, signal.SIGKILL)
                os.waitpid(self.pid, 0)
            except OSError:
                pass
            self.pid = 0
        if self.host is not None:
            self.host.restore()
        if self.channel is not None:
            self.channel.close()
        for fd in self.fds:
            try:
                os.close(fd)
            except OSError:
                pass
        self.fds.clear()


# -- cgroups, seccomp, pid file ------------------------------------------------------------


def sub_cgroups(args: list[str]) -> dict[str, str]:
    """runc's getSubCgroupPaths: "[ctrl[,ctrl...]:]path" -> {controller or "": path}."""
    out: dict[str, str] = {}
    for arg in args:
        parts = arg.split(":")
        if len(parts) > 2:
            raise PyruncError(f"invalid --cgroup argument: {arg}")
        if len(parts) == 1:
            if len(args) != 1:
                raise PyruncError(f"invalid --cgroup argument: {arg} (missing <controller>: "
                                  "prefix)")
            out[""] = arg
            continue
        for ctrl in parts[0].split(","):
            out[ctrl] = parts[1]
    return out


def cgroup_paths_for(saved: dict, args: list[str]) -> tuple[dict[str, str], set[str]]:
    """The directories the process joins ({key: path}) and the keys it must join
    (those given a sub-cgroup); a sub-cgroup can't lead out of the container's."""
    subs = sub_cgroups(args)
    if not saved:
        return {}, set()
    from runtime.cgroups import from_state

    paths = dict(getattr(from_state(saved), "paths", {}) or {})
    if "" in subs:  # no controller given: the same sub-cgroup everywhere
        targets = {key: subs[""] for key in paths}
    else:
        for ctrl in subs:
            if ctrl not in paths:
                raise PyruncError(f"unknown controller {ctrl} in SubCgroupPaths")
        targets = subs
    for key, add in targets.items():
        base = paths[key].rstrip("/")
        joined = os.path.normpath(f"{base}/{add}")
        if joined != base and not joined.startswith(base + "/"):
            raise PyruncError(f"{add} is not a sub cgroup path")
        paths[key] = joined
    return paths, set(targets)


def _seccomp(config: dict):
    """The container's linux.seccomp, compiled for this process (None without one)."""
    profile = (config.get("linux") or {}).get("seccomp")
    if not profile:
        return None
    from runtime.process import seccomp

    return seccomp.compile_profile(profile)


def _write_pid_file(path: str, pid: int) -> None:
    """Atomically, as runc's createPidFile: a temporary file renamed into place."""
    tmp = os.path.join(os.path.dirname(path), f".{os.path.basename(path)}")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o666)
        try:
            os.write(fd, str(pid).encode())
        finally:
            os.close(fd)
        os.rename(tmp, path)
    except OSError as e:
        raise PyruncError(f"write pid file {path}: {(e.strerror or '').lower()}") from None
