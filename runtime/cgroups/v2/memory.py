"""v2 memory controller, with runc's conversions from the OCI (v1-style) values.

OCI ``swap`` is memory+swap; cgroup v2's memory.swap.max is swap alone, so it
gets ``swap - limit``.  ``reservation`` becomes memory.low.  The OOM-killer
switch and swappiness have no v2 files and are ignored, as in runc.
"""

from __future__ import annotations

import errno

from runtime.cgroups import CgroupError, files
from runtime.cgroups.files import MAX_UINT64, CgroupFileError


def requested(res: dict) -> bool:
    m = res.get("memory") or {}
    return bool(m.get("limit") or m.get("swap") or m.get("reservation"))


def swap_value(swap: int, limit: int) -> int:
    """runc's ConvertMemorySwapToCgroupV2Value: -1 max, 0 unset, else swap - limit."""
    if limit == -1 and swap == 0:
        return -1
    if swap in (-1, 0):
        return swap
    if limit in (0, -1):
        raise CgroupError("unable to set swap limit without memory limit")
    if limit < 0:
        raise CgroupError(f"invalid memory value: {limit}")
    if swap < limit:
        raise CgroupError("memory+swap limit should be >= memory limit")
    return swap - limit


def _num(value: int) -> str:
    return "" if value == 0 else "max" if value == -1 else str(value)


def check(path: str, res: dict) -> None:
    m = res.get("memory") or {}
    swap_value(m.get("swap") or 0, m.get("limit") or 0)
    if not m.get("checkBeforeUpdate"):
        return
    try:
        usage = files.read_uint(path, "memory.current")
    except CgroupError:
        return  # best effort, as in runc
    if (m.get("swap") or 0) > 0 and m["swap"] <= usage:
        raise CgroupError(f"rejecting memory+swap limit {m['swap']} <= usage {usage}")
    if (m.get("limit") or 0) > 0 and m["limit"] <= usage:
        raise CgroupError(f"rejecting memory limit {m['limit']} <= usage {usage}")


def set(path: str, res: dict) -> None:  # noqa: A001
    m = res.get("memory") or {}
    limit, swap = m.get("limit") or 0, m.get("swap") or 0
    if not (limit or swap or m.get("reservation")):
        return
    converted = swap_value(swap, limit)
    text = _num(converted)
    if text == "" and converted == 0 and swap > 0:
        text = "0"      # memory == memory+swap: no swap at all
    if text:
        try:
            files.write(path, "memory.swap.max", text)
        except CgroupFileError as e:
            # Without swap accounting there is nothing to limit.
            if not (e.errno == errno.ENOENT and text in ("max", "0")):
                raise
    if _num(limit):
        files.write(path, "memory.max", _num(limit))
    if _num(m.get("reservation") or 0):
        files.write(path, "memory.low", _num(m["reservation"]))


def oom_kill_count(path: str) -> int:
    return files.read_keyed(path, "memory.events").get("oom_kill", 0)


def _entry(path: str, prefix: str) -> dict | None:
    try:
        usage = files.read_uint(path, prefix + ".current")
    except CgroupFileError as e:
        if prefix != "memory" and e.errno == errno.ENOENT:
            return None
        raise
    entry = {"limit": files.read_uint(path, prefix + ".max"), "usage": usage, "max": 0,
             "failcnt": 0}
    if files.exists(path, prefix + ".peak"):
        entry["max"] = files.read_uint(path, prefix + ".peak")
    return entry


def stats(path: str, st: dict) -> None:
    try:
        raw = files.read_keyed(path, "memory.stat")
    except CgroupFileError as e:
        if e.errno == errno.ENOENT:
            return
        raise
    mem = st["memory"]
    mem["raw"] = raw
    mem["cache"] = raw.get("file", 0)
    usage = _entry(path, "memory")
    mem["usage"] = usage
    swap = _entry(path, "memory.swap")
    if swap is not None:
        # runc reports swap as memory+swap, like v1's memsw.
        swap["usage"] += usage["usage"]
        if swap["limit"] != MAX_UINT64:
            swap["limit"] = min(swap["limit"] + usage["limit"], MAX_UINT64)
        swap["max"] = 0
        mem["swap"] = swap


class OomWatcher:
    """OOM kills of a v2 cgroup: memory.events and cgroup.events change notifications."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.count = self._oom_kills()

    def _oom_kills(self) -> int:
        try:
            return oom_kill_count(self.path)
        except CgroupFileError:
            return 0

    def wait(self, timeout: float | None) -> list[str] | None:
        """Events seen within ``timeout`` seconds; None once the cgroup has no process."""
        import os
        import select

        fds = []
        try:
            for name in ("memory.events", "cgroup.events"):
                try:
                    fd = os.open(os.path.join(self.path, name), os.O_RDONLY | os.O_CLOEXEC)
                except FileNotFoundError:
                    if name == "cgroup.events":
                        return None
                    continue            # no memory controller: only watch for the end
                fds.append(fd)
                os.read(fd, 4096)       # kernfs wakes pollers of files already read
            p = select.poll()
            for fd in fds:
                p.register(fd, select.POLLPRI | select.POLLERR)
            p.poll(None if timeout is None else max(0, int(timeout * 1000)))
        except OSError:
            return None
        finally:
            for fd in fds:
                os.close(fd)
        try:
            populated = files.read_keyed(self.path, "cgroup.events").get("populated", 0)
        except CgroupError:
            return None
        now = self._oom_kills()
        events = ["oom"] * max(0, now - self.count)
        self.count = now
        if not populated and not events:
            return None
        return events

    def close(self) -> None:
        pass
