"""start: tell a created container's init to exec the user process."""

from __future__ import annotations

import os

from runtime.errors import PyruncError
from runtime.lifecycle import hooks
from runtime.lifecycle.container import Container
from runtime.process.namespaces import KINDS
from runtime.state.store import START_SOCKET, Store


def start(ctx, container_id: str) -> None:
    c = Container.load(Store(ctx.root), container_id)
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
        from runtime.native import lib
        from runtime.state.sockpath import reachable

        with reachable(sock) as short:
            fd = lib.pyrunc_connect_unix(short.encode())
        if fd < 0:
            raise PyruncError("cannot start a container that has stopped")
        try:
            st = c.oci_state()
            if hooks.has_any(config, "startContainer"):
                nstypes = 0
                for ns in (config.get("linux") or {}).get("namespaces") or []:
                    nstypes |= KINDS[ns["type"]][0]
                try:
                    hooks.run("startContainer", config, st, ns_pid=c.pid, nstypes=nstypes)
                except PyruncError:
                    os.kill(c.pid, 9)
                    raise
            os.write(fd, b"g")
            os.unlink(sock)
            # The init closes the connection when it execs; anything it writes first
            # is why the exec failed.
            err = b""
            while True:
                chunk = os.read(fd, 4096)
                if not chunk:
                    break
                err += chunk
        finally:
            os.close(fd)
        if err:
            raise PyruncError(err.decode(errors="replace"))
        st["status"] = "running"
        hooks.run("poststart", config, st, warn_only=True)
