"""Waiting for and signalling a container's init, which is usually not our child."""

from __future__ import annotations

import os

from runtime.state.status import start_time


def open_pidfd(pid: int, expected_start: int | None) -> int:
    """A pidfd for pid if it is still the same process (pid reuse), else -1."""
    try:
        fd = os.pidfd_open(pid)
    except OSError:
        return -1
    if start_time(pid) != expected_start:
        os.close(fd)
        return -1
    return fd


def wait_exit(pidfd: int, timeout: float | None) -> bool:
    """True once the process behind pidfd has exited (or timeout passed: False)."""
    import select  # only when there is something to wait for (delete of a stopped one: not)

    ready, _, _ = select.select([pidfd], [], [], timeout)
    return bool(ready)
