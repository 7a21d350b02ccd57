"""The receiving end of ``--console-socket``: get the pty master, read what the process writes."""

from __future__ import annotations

import errno
import os
import select
import socket
import threading
import time
from pathlib import Path


class ConsoleSocket:
    """Listens on a unix socket for the pty master a runtime sends for ``terminal: true``."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._server.bind(str(path))
        self._server.listen(1)
        self._server.settimeout(30)
        self.master: int | None = None
        self.error: str | None = None
        self._output = bytearray()
        self._thread = threading.Thread(target=self._receive, daemon=True)
        self._thread.start()

    def _receive(self) -> None:
        try:
            conn, _ = self._server.accept()
            with conn:
                _, fds, _, _ = socket.recv_fds(conn, 4096, 1)
            if not fds:
                self.error = "runtime connected to the console socket but sent no fd"
                return
            self.master = fds[0]
        except OSError as exc:
            self.error = f"no pty master received on the console socket: {exc}"
            return
        self._drain()

    def _drain(self) -> None:
        assert self.master is not None
        while True:
            ready, _, _ = select.select([self.master], [], [], 60)
            if not ready:
                return
            try:
                data = os.read(self.master, 65536)
            except OSError as exc:
                if exc.errno == errno.EIO:  # the last slave end closed
                    return
                raise
            if not data:
                return
            self._output += data

    def output(self, timeout: float = 5.0) -> str:
        """What the process wrote to its terminal, once it closed the terminal."""
        self._thread.join(timeout)
        return self._output.decode(errors="replace").replace("\r\n", "\n")

    def wait_master(self, timeout: float = 10.0) -> int | None:
        deadline = time.monotonic() + timeout
        while self.master is None and self.error is None and time.monotonic() < deadline:
            time.sleep(0.01)
        return self.master

    def close(self) -> None:
        self._server.close()
        if self.master is not None:
            try:
                os.close(self.master)
            except OSError:
                pass
            self.master = None
