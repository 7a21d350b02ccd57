"""Run OCI hooks (config.md "POSIX-platform Hooks", runtime.md "Lifecycle").

Each hook gets exactly its `args` (default: [path]) and its `env` (absent: the
runtime's environment, as runc passes it on), the state document on stdin and
its own stdout/stderr, which end up in the error when it fails.  stdin, stdout
and stderr are memory files, not pipes: a hook that never reads its state, or
leaves a child holding its output open, can neither block nor SIGPIPE us.

Runtime-namespace hooks (prestart, createRuntime, poststart, poststop) run in
the bundle directory.  Container-namespace hooks (createContainer,
startContainer) join the init's cgroups and namespaces first (csrc/hook_spawn.c),
as runc's do, being the init's children there, and see the pid as the container
sees it, as runtime.md's State section asks.
"""

from __future__ import annotations

import _signal as signal  # the signal module's enums cost ~3 ms
import os
import select
import sys

from runtime.errors import PyruncError
from runtime.log import log
from spec.jsonio import dumps

RUNTIME_NS = ("prestart", "createRuntime", "poststart", "poststop")
CONTAINER_NS = ("createContainer", "startContainer")
ORDER = ("prestart", "createRuntime", "createContainer", "startContainer", "poststart",
         "poststop")

_OUTPUT_LIMIT = 2048  # bytes of a failed hook's stdout/stderr quoted in the error


class HookError(PyruncError):
    pass


def state(container_id: str, status: str, pid: int, bundle: str,
          annotations: dict | None = None) -> dict:
    """The state document a hook reads (runtime.md "State"); no pid once stopped."""
    from runtime import SPEC_VERSION

    doc: dict = {"ociVersion": SPEC_VERSION, "id": container_id, "status": status}
    if pid > 0:
        doc["pid"] = pid
    doc["bundle"] = bundle
    if annotations:
        doc["annotations"] = annotations
    return doc


def pid_in_container(pid: int) -> int:
    """pid as seen from the innermost pid namespace it belongs to (NSpid's last field)."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("NSpid:"):
                    return int(line.split()[-1])
    except (OSError, ValueError, IndexError):
        pass
    return pid


def run(kind: str, config: dict, doc: dict, *, ns_pid: int = 0, nstypes: int = 0,
        cwd: str | None = None, env: list[str] | None = None, warn_only: bool = False,
        seccomp=None) -> None:
    """Run the `kind` hooks of config in order; the first failure raises HookError,
    or with warn_only is logged and the remaining hooks still run.

    ns_pid/nstypes: join these namespaces of that process (container-namespace hooks).
    env: the environment of hooks without one (None: the runtime's).
    seccomp: a compiled seccomp.Filter each hook runs under (startContainer)."""
    entries = (config.get("hooks") or {}).get(kind) or []
    if not entries:
        return
    cgroups: list[str] = []
    if ns_pid:
        cgroups = cgroup_procs_files(ns_pid)
        if os.geteuid() != 0:
            # an unprivileged caller's container may sit in cgroups it cannot write
            # (rootless on v1: none of its own); runc ignores those, so do we
            cgroups = [c for c in cgroups if os.access(c, os.W_OK)]
        if "pid" in doc:
            doc = dict(doc, pid=pid_in_container(ns_pid))
    stdin = dumps(doc).encode()
    for index, hook in enumerate(entries):
        try:
            _run_one(hook, stdin, ns_pid, nstypes, cwd, env, cgroups, seccomp)
        except HookError as e:
            msg = f"error running {kind} hook #{index}: {e}"
            if not warn_only:
                raise HookError(msg) from None
            log.warning(msg)


def _memfd(name: str, data: bytes = b"") -> int:
    fd = os.memfd_create(name, os.MFD_CLOEXEC)
    if data:
        os.write(fd, data)
        os.lseek(fd, 0, os.SEEK_SET)
    return fd


def _read_back(fd: int) -> str:
    os.lseek(fd, 0, os.SEEK_SET)
    data = os.read(fd, _OUTPUT_LIMIT)
    return data.decode(errors="replace")


_STEPS: dict[int, str] = {}


def _step_names() -> dict[int, str]:
    from runtime.native import lib

    if not _STEPS:
        _STEPS.update({lib.PYRUNC_HOOK_STEP_SETNS: "join the container's namespaces",
                       lib.PYRUNC_HOOK_STEP_FORK: "fork in the container's pid namespace",
                       lib.PYRUNC_HOOK_STEP_CHDIR: "chdir",
                       lib.PYRUNC_HOOK_STEP_STDIO: "set up stdio",
                       lib.PYRUNC_HOOK_STEP_EXEC: "exec",
                       lib.PYRUNC_HOOK_STEP_CGROUP: "join the container's cgroups",
                       lib.PYRUNC_HOOK_STEP_SECCOMP: "load the container's seccomp filter"})
    return _STEPS


def cgroup_procs_files(pid: int) -> list[str]:
    """The cgroup.procs file of each cgroup pid is in (v1 hierarchies and v2), found
    through /proc/<pid>/cgroup and the host's cgroup mounts."""
    mounts: list[tuple[str, set[str], str, str]] = []  # (fstype, options, root, mountpoint)
    with open("/proc/self/mountinfo") as f:
        for line in f:
            head, _, tail = line.partition(" - ")
            fields, rest = head.split(), tail.split()
            if len(rest) >= 3 and rest[0] in ("cgroup", "cgroup2"):
                mounts.append((rest[0], set(rest[2].split(",")), fields[3], fields[4]))
    out = []
    try:
        with open(f"/proc/{pid}/cgroup") as f:
            lines = f.read().splitlines()
    except OSError:
        return []
    for line in lines:
        _, controllers, path = line.split(":", 2)
        want = set(controllers.split(",")) if controllers else set()
        for fstype, options, root, mountpoint in mounts:
            if (fstype == "cgroup2") != (not want) or not want <= options:
                continue
            if root != "/" and not (path == root or path.startswith(root + "/")):
                continue
            rel = path[len(root):] if root != "/" else path
            out.append(os.path.join(mountpoint, rel.lstrip("/"), "cgroup.procs"))
            break
    return [p for p in out if os.path.exists(p)]


def _run_one(hook: dict, stdin: bytes, ns_pid: int, nstypes: int, cwd: str | None,
             default_env: list[str] | None, cgroups: list[str], seccomp=None) -> None:
    from runtime.native import ffi, lib

    path = hook.get("path") or ""
    if not os.path.isabs(path):
        raise HookError(f"hook path {path!r} is not absolute")
    args = hook.get("args") or [path]
    env = hook["env"] if hook.get("env") is not None else default_env
    keep = []

    def cvec(items: list[str]):
        strs = [ffi.new("char[]", x.encode()) for x in items]
        arr = ffi.new("char *[]", strs + [ffi.NULL])
        keep.extend(strs)
        keep.append(arr)
        return arr

    fds = [_memfd("hook-stdin", stdin), _memfd("hook-stdout"), _memfd("hook-stderr")]
    err_r, err_w = os.pipe2(os.O_CLOEXEC | os.O_NONBLOCK)
    try:
        spec = ffi.new("struct pyrunc_hook *")
        spec.ns_pid = ns_pid
        spec.nstypes = nstypes
        c_path = ffi.new("char[]", path.encode())
        spec.path = c_path
        spec.argv = cvec(args)
        spec.envp = cvec(env) if env is not None else ffi.NULL
        c_cwd = ffi.new("char[]", cwd.encode()) if cwd else ffi.NULL
        spec.cwd = c_cwd
        spec.cgroup_procs = cvec(cgroups) if cgroups else ffi.NULL
        for i, fd in enumerate(fds):
            spec.stdio[i] = fd
        spec.err_fd = err_w
        if seccomp is not None:
            bpf = ffi.from_buffer(seccomp.bpf)
            keep.append(bpf)
            spec.seccomp = bpf
            spec.seccomp_len = seccomp.instructions
            # No listener: nobody would serve it (notified calls fail with ENOSYS).
            spec.seccomp_flags = seccomp.flags & ~lib.SECCOMP_FILTER_FLAG_NEW_LISTENER
        pid = lib.pyrunc_spawn_hook(spec)
        os.close(err_w)
        err_w = -1
        if pid < 0:
            raise HookError(f"start {path}: {os.strerror(-pid).lower()}")
        timeout = hook.get("timeout")
        code = _wait(pid, float(timeout) if timeout else None, _joins_pid_ns(ns_pid, nstypes))
        try:
            report = os.read(err_r, 8)
        except BlockingIOError:
            report = b""
        if len(report) == 8:
            step = int.from_bytes(report[:4], sys.byteorder)
            err = int.from_bytes(report[4:], sys.byteorder)
            what = _step_names().get(step, "start")
            target = {"exec": f" {path}", "chdir": f" {cwd}"}.get(what, "")
            raise HookError(f"{what}{target}: {os.strerror(err).lower()}")
        if code is None:
            raise HookError(f"{path} ran past its timeout of {float(timeout):.1f}s")
        out, err_text = _read_back(fds[1]), _read_back(fds[2])
        if code != 0:
            status = f"killed by signal {-code}" if code < 0 else f"exit status {code}"
            raise HookError(f"{path}: {status}, stdout: {out!r}, stderr: {err_text!r}")
        if out or err_text:
            log.debug(f"hook {path}: stdout: {out!r}, stderr: {err_text!r}")
    finally:
        for fd in (*fds, err_r, err_w):
            if fd >= 0:
                os.close(fd)


def _joins_pid_ns(ns_pid: int, nstypes: int) -> bool:
    """Whether the hook runs under a waiter (csrc/hook_spawn.c) in another pid namespace."""
    from runtime.native import lib

    if not ns_pid or not nstypes & lib.CLONE_NEWPID:
        return False
    try:
        return os.stat(f"/proc/{ns_pid}/ns/pid").st_ino != os.stat("/proc/self/ns/pid").st_ino
    except OSError:
        return False


def _wait(pid: int, timeout: float | None, waiter: bool) -> int | None:
    """Wait for pid; its exit code (negative: killed by that signal), None on timeout
    (it is killed and reaped first: a waiter is asked with SIGTERM to kill and reap
    its hook, SIGKILL being the fallback)."""
    pidfd = os.pidfd_open(pid)
    try:
        ready, _, _ = select.select([pidfd], [], [], timeout)
        if not ready:
            for sig, grace in ((signal.SIGTERM, 5.0), (signal.SIGKILL, None)):
                if sig == signal.SIGTERM and not waiter:
                    continue
                try:
                    signal.pidfd_send_signal(pidfd, sig)
                except ProcessLookupError:
                    break
                if grace is None or select.select([pidfd], [], [], grace)[0]:
                    break
            os.waitpid(pid, 0)
            return None
    finally:
        os.close(pidfd)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)
