"""Run a client under a pseudo-terminal, as a person at a terminal would
(`docker run -it`, `ctr run -t`, `podman exec -it` refuse to work without one)."""

from __future__ import annotations

import os
import pty
import select
import signal
import time
from collections.abc import Sequence


class PtyResult:
    def __init__(self, returncode: int, output: str) -> None:
        self.returncode = returncode
        self.output = output

    def __repr__(self) -> str:
        return f"PtyResult(returncode={self.returncode}, output={self.output!r})"


def run_in_pty(argv: Sequence[str], send: str = "", *, env: dict[str, str] | None = None,
               wait_for: str | None = None, timeout: float = 30) -> PtyResult:
    """Run argv with a pty as its controlling terminal; type `send` once
    `wait_for` has appeared in the output (or at once), then read to the end."""
    full_env = dict(os.environ, TERM="xterm", **(env or {}))
    pid, fd = pty.fork()
    if pid == 0:  # the child: exec at once, nothing else
        try:
            os.execvpe(argv[0], list(argv), full_env)
        finally:
            os._exit(127)
    out = b""
    pending = send.encode()
    if not wait_for:
        os.write(fd, pending)
        pending = b""
    deadline = time.monotonic() + timeout
    status = None
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([fd], [], [], 0.2)
            if ready:
                try:
                    chunk = os.read(fd, 65536)
                except OSError:  # EIO: every holder of the pty's slave side has gone
                    break
                if not chunk:
                    break
                out += chunk
            elif status is not None:
                break  # the client is gone and nothing more came: a helper may hold the pty
            if pending and wait_for and wait_for.encode() in out:
                os.write(fd, pending)
                pending = b""
            if status is None:
                done, st = os.waitpid(pid, os.WNOHANG)
                status = st if done else None
        else:
            if status is None:
                os.kill(pid, signal.SIGKILL)
    finally:
        if status is None:
            _, status = os.waitpid(pid, 0)
        os.close(fd)
    code = os.waitstatus_to_exitcode(status)
    return PtyResult(code, out.decode(errors="replace").replace("\r\n", "\n"))
