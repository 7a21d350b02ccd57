"""A container's status, derived from its init process (safe against pid reuse)."""

from __future__ import annotations

import os

from runtime.state.store import START_SOCKET


def start_time(pid: int) -> int | None:
    """The process's start time (clock ticks after boot), or None if gone or a zombie."""
    if pid <= 0:
        return None
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read()
    except OSError:
        return None
    fields = data[data.rfind(b")") + 2:].split()
    if fields[0] in (b"Z", b"X"):
        return None
    return int(fields[19])


def is_alive(state: dict) -> bool:
    pid = state.get("pid", 0)
    return pid > 0 and start_time(pid) == state.get("pid_start")


def status(state: dict, directory: str) -> str:
    if state.get("creating"):
        # Still being created only while the creating runtime is alive.
        creator = state.get("creator") or {}
        alive = start_time(creator.get("pid", 0)) == creator.get("start")
        return "creating" if alive else "stopped"
    if not is_alive(state):
        return "stopped"
    if os.path.exists(os.path.join(directory, START_SOCKET)):
        return "created"
    cg = state.get("cgroup")
    if isinstance(cg, dict):
        from runtime.cgroups.frozen import is_frozen

        if is_frozen(cg):
            return "paused"
    return "running"
