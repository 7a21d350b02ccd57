"""process.terminal: a pty made inside the container, as runc makes it.

In the container process (plan ops, after pivot_root for an init): open the
container's /dev/ptmx, apply process.consoleSize, bind the slave on
/dev/console (init only), send the master over the console socket with
SCM_RIGHTS and the payload "/dev/ptmx" (runc's SendFd), make the slave fds
0-2 and the controlling terminal.

In the runtime: connect to a client's --console-socket, or, for a foreground
`run`/`exec`, receive the master on a private socketpair and relay it to the
terminal pyrunc runs in (raw mode, window size kept in step on SIGWINCH).
"""

from __future__ import annotations

import errno
import os

from runtime.errors import PyruncError
from runtime.native import lib
from runtime.native.plan import Plan

CONSOLE = "/dev/console"


# -- the container side: plan operations ------------------------------------------------
def add_console(plan: Plan, socket_fd: int, process: dict, *, mount_console: bool,
                relayed: bool = False) -> None:
    """`relayed`: pyrunc relays the pty itself; like runc it clears ONLCR (our raw
    host terminal keeps OPOST), here before the process can see its termios."""
    plan.add(lib.OP_PTY_OPEN, "create a pty from the container's /dev/ptmx",
             n=(1 if relayed else 0,))
    size = process.get("consoleSize") or {}
    rows, cols = int(size.get("height", 0)), int(size.get("width", 0))
    if rows and cols:
        plan.add(lib.OP_PTY_RESIZE, f"set the console size to {cols}x{rows}", n=(rows, cols))
    if mount_console:
        plan.add(lib.OP_MKFILE_IN_ROOT, f"create {CONSOLE}", s=(CONSOLE,))
        plan.add(lib.OP_PTY_MOUNT_CONSOLE, f"bind the pty on {CONSOLE}", s=(CONSOLE,))
    plan.add(lib.OP_PTY_SEND, "send the pty master over the console socket", fd=socket_fd)
    plan.add(lib.OP_PTY_STDIO, "make the pty stdin, stdout and stderr")
    plan.add(lib.OP_SETCTTY, "make the pty the controlling terminal")


def check_terminal(terminal: bool, detach: bool, console_socket: str) -> None:
    """runc's rules for --console-socket (create always detaches)."""
    if detach and terminal and not console_socket:
        raise PyruncError("cannot allocate tty if runc will detach without setting console "
                          "socket")
    if (not detach or not terminal) and console_socket:
        raise PyruncError("cannot use console socket if runc will not detach or allocate tty")


# -- the runtime side: client sockets (--console-socket, --pidfd-socket) ------------------
def connect(path: str) -> int:
    """Connect to a client's console (or pidfd) socket; returns the connected fd."""
    from runtime.native import lib

    fd = lib.pyrunc_connect_unix(os.path.abspath(path).encode())
    if fd < 0:
        raise PyruncError(f"dial unix {path}: connect: {os.strerror(-fd).lower()}")
    return fd


def send_fd(sock_fd: int, fd: int, payload: bytes) -> None:
    """One message with `payload` and `fd` (SCM_RIGHTS), as runc's utils.SendFds."""
    import socket

    s = socket.socket(fileno=os.dup(sock_fd))
    try:
        socket.send_fds(s, [payload], [fd])
    except OSError as e:
        raise PyruncError(f"send fd over the socket: {_strerror(e)}") from None
    finally:
        s.close()


def send_pidfd(sock_fd: int, pid: int, payload: bytes) -> None:
    """--pidfd-socket: a pidfd of the process, with runc's payload ("standard" for an
    init, "setns" for an exec'd process)."""
    pidfd = os.pidfd_open(pid)
    try:
        send_fd(sock_fd, pidfd, payload)
    finally:
        os.close(pidfd)


def socketpair() -> tuple[int, int]:
    """(runtime end, container end) of a private console socket."""
    import socket

    a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    return a.detach(), b.detach()


def receive_master(sock_fd: int) -> int:
    """The pty master the container process sent on our end of the socketpair."""
    import socket

    s = socket.socket(fileno=os.dup(sock_fd))
    try:
        _, fds, _, _ = socket.recv_fds(s, 4096, 1)
    except OSError as e:
        raise PyruncError(f"receive the pty master: {_strerror(e)}") from None
    finally:
        s.close()
    if len(fds) != 1:
        for fd in fds:
            os.close(fd)
        raise PyruncError("receive the pty master: the container process sent no terminal")
    return fds[0]


def _strerror(e: OSError) -> str:
    return (e.strerror or str(e)).lower()


class HostConsole:
    """The terminal pyrunc runs in: stderr, stdout or stdin if one is a tty, else
    /dev/tty (runc's order).  Found before the container exists, so that a
    missing terminal fails cleanly."""

    def __init__(self) -> None:
        self.owned = False
        for fd in (2, 1, 0):
            if os.isatty(fd):
                self.fd = fd
                break
        else:
            try:
                self.fd = os.open("/dev/tty", os.O_RDWR | os.O_NOCTTY | os.O_CLOEXEC)
            except OSError as e:
                raise PyruncError(f"open /dev/tty: {_strerror(e)}") from None
            self.owned = True
        self.saved: list | None = None

    def set_raw(self) -> None:
        """cfmakeraw(3) but output processing kept (OPOST), as containerd's console
        does: the container's pty sends bare newlines (-onlcr), we turn them into
        CR LF.  Applied at once (TCSANOW): pending input is kept."""
        import termios

        self.saved = termios.tcgetattr(self.fd)
        mode = termios.tcgetattr(self.fd)
        mode[0] &= ~(termios.IGNBRK | termios.BRKINT | termios.PARMRK | termios.ISTRIP
                     | termios.INLCR | termios.IGNCR | termios.ICRNL | termios.IXON)
        mode[1] |= termios.OPOST
        mode[3] &= ~(termios.ECHO | termios.ECHONL | termios.ICANON | termios.ISIG
                     | termios.IEXTEN)
        mode[2] &= ~(termios.CSIZE | termios.PARENB)
        mode[2] |= termios.CS8
        mode[6][termios.VMIN] = 1
        mode[6][termios.VTIME] = 0
        termios.tcsetattr(self.fd, termios.TCSANOW, mode)

    def restore(self) -> None:
        import termios

        if self.saved is not None:
            try:
                termios.tcsetattr(self.fd, termios.TCSANOW, self.saved)
            except termios.error:
                pass
            self.saved = None
        if self.owned:
            os.close(self.fd)
            self.owned = False

    def copy_size_to(self, master: int) -> None:
        """Give the container's pty our window size (errors ignored, as runc)."""
        import fcntl
        import termios

        try:
            size = fcntl.ioctl(self.fd, termios.TIOCGWINSZ, b"\0" * 8)
            fcntl.ioctl(master, termios.TIOCSWINSZ, size)
        except OSError:
            pass


_CHUNK = 1 << 15
_DRAIN_IDLE_MS = 50


def relay(master: int, host: HostConsole, pidfd: int) -> None:
    """Copy our stdin to the pty and the pty to our stdout until the process
    behind pidfd has exited and its output is drained.  SIGWINCH resizes."""
    import select
    import signal

    previous = signal.signal(signal.SIGWINCH, lambda *_: host.copy_size_to(master))
    os.set_blocking(master, False)
    pending = b""           # read from stdin, not yet taken by the pty
    stdin_open = True
    try:
        host.copy_size_to(master)
        while True:
            poller = select.poll()
            poller.register(pidfd, select.POLLIN)
            poller.register(master, select.POLLIN | (select.POLLOUT if pending else 0))
            if stdin_open and len(pending) < _CHUNK:
                poller.register(0, select.POLLIN)
            events = dict(poller.poll())
            if events.get(pidfd):
                break
            flags = events.get(master, 0)
            if flags & select.POLLOUT and pending:
                pending = pending[_write_some(master, pending):]
            if flags & (select.POLLIN | select.POLLHUP | select.POLLERR):
                if not _copy_out(master):
                    break  # no slave is open any more
            if events.get(0):
                data = _read_stdin()
                if data:
                    pending += data
                else:
                    stdin_open = False
        _drain(master)
    finally:
        signal.signal(signal.SIGWINCH, previous)


def _read_stdin() -> bytes:
    try:
        return os.read(0, _CHUNK)
    except OSError:
        return b""  # hung up: stop reading


def _write_some(fd: int, data: bytes) -> int:
    try:
        return os.write(fd, data)
    except BlockingIOError:
        return 0
    except OSError:
        return len(data)  # the pty is gone: drop the input


def _copy_out(master: int) -> bool:
    """Move what the pty has to stdout; False once every slave is closed."""
    try:
        data = os.read(master, _CHUNK)
    except BlockingIOError:
        return True
    except OSError as e:
        if e.errno == errno.EIO:
            return False
        raise
    if not data:
        return False
    _write_all(1, data)
    return True


def _write_all(fd: int, data: bytes) -> None:
    import select

    while data:
        try:
            data = data[os.write(fd, data):]
        except BlockingIOError:
            select.select([], [fd], [])
        except OSError:
            return  # our stdout is gone: nothing left to show the output to


def _drain(master: int) -> None:
    """After the exit: what the process wrote last may still be on its way through
    the pty's buffers; read until the slave side is closed or it goes quiet."""
    import select

    poller = select.poll()
    poller.register(master, select.POLLIN)
    while poller.poll(_DRAIN_IDLE_MS):
        if not _copy_out(master):
            return
