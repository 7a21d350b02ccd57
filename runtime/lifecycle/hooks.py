"""Run OCI hooks: path, args, env, timeout, with the container state on stdin.

Hooks of the runtime namespace (prestart, createRuntime, poststart, poststop)
are spawned directly; createContainer and startContainer hooks are spawned in
the container's namespaces by the extension (setns, then exec).
"""

from __future__ import annotations

import json
import os
import select
import signal
import time

from runtime.errors import PyruncError
from runtime.log import log

RUNTIME_NS = ("prestart", "createRuntime", "poststart", "poststop")
CONTAINER_NS = ("createContainer", "startContainer")


# Python ignores SIGPIPE and SIGXFSZ; a hook gets every disposition reset.
_DEFAULT_SIGNALS = tuple(s for s in range(1, 32) if s not in (signal.SIGKILL, signal.SIGSTOP))


class HookError(PyruncError):
    pass


def _spawn(hook: dict, stdin_fd: int, ns_pid: int, nstypes: int) -> int:
    path = hook["path"]
    args = hook.get("args") or [path]
    env = hook.get("env") or []
    if ns_pid:
        from runtime.native import ffi, lib

        keep = [ffi.new("char[]", a.encode()) for a in args]
        keep_env = [ffi.new("char[]", e.encode()) for e in env]
        argv = ffi.new("char *[]", keep + [ffi.NULL])
        envp = ffi.new("char *[]", keep_env + [ffi.NULL])
        pid = lib.pyrunc_spawn_in_ns(ns_pid, nstypes, path.encode(), argv, envp, stdin_fd)
        if pid < 0:
            raise HookError(f"run hook {path}: {os.strerror(-pid)}")
        return pid
    try:
        return os.posix_spawn(path, args, dict(e.split("=", 1) for e in env if "=" in e),
                              file_actions=[(os.POSIX_SPAWN_DUP2, stdin_fd, 0)],
                              setsigdef=_DEFAULT_SIGNALS, setsigmask=())
    except OSError as e:
        raise HookError(f"run hook {path}: {e.strerror}") from None


def _wait(pid: int, timeout: float | None) -> int | None:
    """Wait for pid; returns its exit status, or None on timeout (after killing it)."""
    pidfd = os.pidfd_open(pid)
    try:
        ready, _, _ = select.select([pidfd], [], [], timeout)
        if not ready:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            return None
    finally:
        os.close(pidfd)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


def run_one(kind: str, hook: dict, state: dict, ns_pid: int = 0, nstypes: int = 0) -> None:
    path = hook.get("path", "")
    r, w = os.pipe2(os.O_CLOEXEC)
    try:
        pid = _spawn(hook, r, ns_pid, nstypes)
    finally:
        os.close(r)
    try:
        os.write(w, json.dumps(state).encode())
    except OSError:
        pass  # a hook that exits without reading its state is fine
    finally:
        os.close(w)
    started = time.monotonic()
    timeout = hook.get("timeout")
    code = _wait(pid, float(timeout) if timeout else None)
    if code is None:
        raise HookError(f"{kind} hook {path} timed out after {timeout}s")
    if code != 0:
        raise HookError(f"{kind} hook {path} failed with exit status {code}")
    log.debug(f"{kind} hook {path} ran in {time.monotonic() - started:.3f}s")


def run(kind: str, config: dict, state: dict, ns_pid: int = 0, nstypes: int = 0,
        warn_only: bool = False) -> None:
    for hook in (config.get("hooks") or {}).get(kind) or []:
        try:
            run_one(kind, hook, state, ns_pid, nstypes)
        except HookError as e:
            if not warn_only:
                raise
            log.warning(str(e))


def has_any(config: dict, *kinds: str) -> bool:
    hooks = config.get("hooks") or {}
    return any(hooks.get(k) for k in kinds)
