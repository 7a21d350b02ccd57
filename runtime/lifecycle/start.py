"""start: tell a created container's init to exec the user process."""

from __future__ import annotations

import os
import sys

from runtime.errors import PyruncError
from runtime.lifecycle.container import Container
from runtime.log import trace
from runtime.state.store import START_SOCKET, Store
from spec.config import has_hooks


def start(ctx, container_id: str, created: Container | None = None) -> None:
    """`created`: the container as `run` has just created it, instead of loading it."""
    c = created or Container.load(Store(ctx.root), container_id)
    with c.lock():
        status = c.status()
        if status == "stopped":
            raise PyruncError("cannot start a container that has stopped")
        if status in ("running", "paused"):
            raise PyruncError("cannot start an already running container")
        if status != "created":
            raise PyruncError(f"cannot start a container in the {status} state")
        config = c.config()
        sock = os.path.join(c.dir, START_SOCKET)
        fd = _connect(c.dir)
        if fd < 0:
            raise PyruncError("cannot start a container that has stopped")
        bundle = c.state.get("bundle", "")
        annotations = c.state.get("annotations")
        try:
            if has_hooks(config, "startContainer"):
                _start_container_hooks(c, config)
            err = _go(fd, sock)
        finally:
            os.close(fd)
        if err:
            raise PyruncError(err.decode(errors="replace"))
        if trace:
            trace(f"start {c.id}: the init got \"go\", loaded seccomp and exec'd the process")
        if not has_hooks(config, "poststart"):
            return
        from runtime.lifecycle import hooks

        st = hooks.state(c.id, "running", c.pid, bundle, annotations)
        try:
            hooks.run("poststart", config, st, cwd=bundle)
        except hooks.HookError:
            _stop(c)  # runtime.md, Lifecycle step 9: error, and stop the container
            raise


def _connect(directory: str) -> int:
    """Connect to the init's start socket; -1 if nobody listens there any more.
    The path goes through /proc/self/fd so a long --root fits in sun_path."""
    try:
        dirfd = os.open(directory, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError:
        return -1
    path = f"/proc/self/fd/{dirfd}/{START_SOCKET}"
    try:
        native = sys.modules.get("runtime.native")
        if native is not None:  # `run` has the extension loaded: no _socket (~0.25 ms)
            fd = native.lib.pyrunc_connect_unix(path.encode())
            return fd if fd >= 0 else -1
        # _socket alone: the socket module and cffi each cost 1-3 ms of imports.
        import _socket

        s = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM | _socket.SOCK_CLOEXEC)
        try:
            s.connect(path)
            return s.detach()
        except OSError:
            return -1
        finally:
            s.close()
    finally:
        os.close(dirfd)


def _go(fd: int, sock: str) -> bytes:
    """Send "go"; returns what the init wrote before closing (why its exec failed)."""
    try:
        os.write(fd, b"g")
        try:
            os.unlink(sock)
        except FileNotFoundError:
            pass  # a concurrent delete --force removed the state dir
        # The init closes the connection when it execs.
        err = b""
        while True:
            chunk = os.read(fd, 4096)
            if not chunk:
                return err
            err += chunk
    except (BrokenPipeError, ConnectionResetError):
        # Killed (kill, delete --force) between our connect and its exec.
        raise PyruncError("cannot start a container that has stopped") from None


def _start_container_hooks(c: Container, config: dict) -> None:
    """In the container's namespaces, before the user program; a failure stops it."""
    from runtime.lifecycle import hooks
    from runtime.process.namespaces import KINDS

    nstypes = 0
    for ns in (config.get("linux") or {}).get("namespaces") or []:
        nstypes |= KINDS[ns["type"]][0]
    process = config.get("process") or {}
    profile = (config.get("linux") or {}).get("seccomp")
    seccomp = None
    if profile:
        # As runc's, whose init runs them after loading the container's filter.
        from runtime.process import seccomp as seccomp_mod

        seccomp = seccomp_mod.compile_profile(profile)
    st = hooks.state(c.id, "created", c.pid, c.state.get("bundle", ""),
                     c.state.get("annotations"))
    try:
        # Like runc, where the init runs them: its cwd, and its env for hooks without one.
        hooks.run("startContainer", config, st, ns_pid=c.pid, nstypes=nstypes,
                  cwd=process.get("cwd") or "/", env=list(process.get("env") or []),
                  seccomp=seccomp)
    except hooks.HookError:
        _stop(c)
        raise


def _stop(c: Container) -> None:
    """Kill the init and whatever else is in the container; wait for the init."""
    from runtime.lifecycle.kill import kill_and_wait

    kill_and_wait(c, 10)
