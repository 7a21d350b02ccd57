"""Helpers for the exec tests: a running container, a console-socket receiver (what
Docker's shim and conmon do with --console-socket) and a host pty to run a
foreground runtime in."""

from __future__ import annotations

import fcntl
import os
import select
import socket
import struct
import subprocess
import termios
import threading
import time

from tests.support.runtime import Runtime


class Running:
    """A started container whose init sleeps; exec into it."""

    def __init__(self, rt: Runtime, bundle) -> None:
        self.rt = rt
        self.bundle = bundle
        self.id = bundle.id
        self.pid = rt.state(bundle.id)["pid"]

    @classmethod
    def start(cls, rt: Runtime, bundle, argv=("/bin/sleep", "1000000")) -> Running:
        bundle.args(*argv)
        rt("run", "-d", "-b", bundle.path, bundle.id, check=True)
        return cls(rt, bundle)

    def exec(self, *argv: str, flags: tuple[str, ...] = (), **kw) -> subprocess.CompletedProcess:
        return self.rt("exec", *flags, self.id, *argv, **kw)

    def sh(self, script: str, flags: tuple[str, ...] = (), **kw) -> subprocess.CompletedProcess:
        return self.exec("/bin/sh", "-c", script, flags=flags, **kw)

    def ok(self, script: str, flags: tuple[str, ...] = (), **kw) -> str:
        p = self.sh(script, flags=flags, **kw)
        assert p.returncode == 0, f"exec failed ({p.returncode}): {p.stderr.strip()}"
        return p.stdout


def error_line(p: subprocess.CompletedProcess) -> str:
    """The runtime's one error line (runc and pyrunc both log `msg="..."`)."""
    lines = [line for line in p.stderr.splitlines() if line.strip()]
    assert lines, f"no error output (exit {p.returncode})"
    return lines[-1]


class ConsoleReceiver:
    """A unix socket the runtime connects to and sends the pty master over: the
    side of --console-socket that containerd's shim and conmon implement."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.server.bind(path)
        self.server.listen(1)
        self.payload = b""
        self.master = -1
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        try:
            self.server.settimeout(30)
            conn, _ = self.server.accept()
            with conn:
                msg, fds, _, _ = socket.recv_fds(conn, 4096, 4)
            self.payload = msg
            assert len(fds) == 1, f"expected one fd, got {len(fds)}"
            self.master = fds[0]
        except BaseException as e:  # noqa: BLE001 - reported by wait()
            self.error = e

    def wait(self) -> int:
        self._thread.join(30)
        if self.error is not None:
            raise self.error
        assert self.master >= 0, "no pty master received"
        return self.master

    def close(self) -> None:
        self.server.close()
        if self.master >= 0:
            os.close(self.master)
            self.master = -1


def read_until(fd: int, needle: bytes, timeout: float = 15) -> bytes:
    """Read a pty master until `needle` shows up (or EOF/timeout); all that was read."""
    out = b""
    deadline = time.monotonic() + timeout
    while needle not in out and time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if not ready:
            continue
        try:
            data = os.read(fd, 4096)
        except OSError:
            break
        if not data:
            break
        out += data
    return out


def read_all(fd: int, timeout: float = 15) -> bytes:
    """Read a pty master until its other side is closed (EIO) or timeout."""
    return read_until(fd, b"\0never\0", timeout)


def set_size(fd: int, rows: int, cols: int) -> None:
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))


class HostPty:
    """A runtime run in the foreground with a pty as its terminal, as in an
    interactive shell: its stdin, stdout and stderr are the pty's slave."""

    def __init__(self, argv: list[str], rows: int = 24, cols: int = 80) -> None:
        self.master, slave = os.openpty()
        set_size(self.master, rows, cols)
        self.proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave,
                                     start_new_session=True)
        os.close(slave)

    def send(self, data: bytes) -> None:
        os.write(self.master, data)

    def wait(self, timeout: float = 30) -> tuple[int, bytes]:
        """Exit status and everything the runtime wrote to its terminal."""
        out = b""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            ready, _, _ = select.select([self.master], [], [], 0.1)
            if ready:
                try:
                    data = os.read(self.master, 4096)
                except OSError:
                    data = b""  # EIO: no one holds the slave any more
                if data:
                    out += data
                    continue
                if self.proc.poll() is not None:
                    break
                time.sleep(0.05)
            elif self.proc.poll() is not None:
                break
        return self.proc.wait(timeout=5), out

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        os.close(self.master)
