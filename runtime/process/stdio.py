"""The fds a container process gets: stdio, systemd socket activation, --preserve-fds.

As runc: fds 0-2 are the runtime's own (a terminal replaces them), then the
socket-activation fds the runtime was given (LISTEN_FDS, create and run only),
then --preserve-fds N more; every other fd is closed at execve (OP_CLOSE_FDS).
"""

from __future__ import annotations

import os

from runtime.errors import PyruncError


def ensure_stdio() -> None:
    """Give closed fds 0-2 /dev/null, so that no fd the runtime opens later can take
    their place and reach the container as its stdio."""
    for fd in range(3):
        try:
            os.fstat(fd)
        except OSError:
            null = os.open("/dev/null", os.O_RDWR)
            if null != fd:
                os.dup2(null, fd, inheritable=True)
                os.close(null)
            else:
                os.set_inheritable(fd, True)


def listen_fds() -> int:
    """How many socket-activation fds systemd passed us (LISTEN_PID is our pid)."""
    try:
        if int(os.environ.get("LISTEN_PID", "")) != os.getpid():
            return 0
        return max(int(os.environ.get("LISTEN_FDS", "")), 0)
    except ValueError:
        return 0


def activation_env(count: int) -> list[str]:
    """What runc adds to the environment of an init given `count` activation fds."""
    return [f"LISTEN_FDS={count}", "LISTEN_PID=1"] if count else []


def check_preserved(first: int, count: int) -> None:
    """Every fd to preserve must be open (runc's wording); each is passed as it is,
    even if its owner marked it close-on-exec."""
    for i in range(count):
        try:
            os.set_inheritable(first + i, True)
        except OSError as e:
            raise PyruncError(f"unable to stat preserved-fd {i} (of {count}): stat "
                              f"/proc/self/fd/{first + i}: {(e.strerror or '').lower()}") from None
