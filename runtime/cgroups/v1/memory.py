"""v1 memory controller: limits, swap, reservation, OOM killer, swappiness, stats."""

from __future__ import annotations

import errno

from runtime.cgroups import CgroupError, files
from runtime.cgroups.files import CgroupFileError

LIMIT = "memory.limit_in_bytes"
SWAP_LIMIT = "memory.memsw.limit_in_bytes"
TCP_LIMIT = "memory.kmem.tcp.limit_in_bytes"


def requested(res: dict) -> bool:
    m = res.get("memory")
    if not m:
        return False
    return bool(m.get("limit") or m.get("swap") or m.get("reservation") or m.get("kernelTCP")
                or m.get("disableOOMKiller") or m.get("swappiness") is not None)


def _set_limit(path: str, value: int) -> None:
    if value == 0:
        return
    try:
        files.write(path, LIMIT, str(value))
    except CgroupFileError as e:
        if e.errno != errno.EBUSY:
            raise
        usage = files.read_uint(path, "memory.usage_in_bytes")
        peak = files.read_uint(path, "memory.max_usage_in_bytes")
        raise CgroupError(f"unable to set memory limit to {value} (current usage: {usage}, "
                          f"peak usage: {peak})") from None


def _set_swap(path: str, value: int) -> None:
    if value != 0:
        files.write(path, SWAP_LIMIT, str(value))


def _set_memory_and_swap(path: str, limit: int, swap: int) -> None:
    # "Unlimited memory" with swap unset means unlimited swap too.
    if limit == -1 and swap == 0 and files.exists(path, SWAP_LIMIT):
        swap = -1
    # memsw must stay >= memory at every step, so the order of the writes depends
    # on whether the new swap limit is above the current memory limit.
    if limit != 0 and swap != 0:
        current = files.read_uint(path, LIMIT)
        if swap == -1 or current < swap:
            _set_swap(path, swap)
            _set_limit(path, limit)
            return
    _set_limit(path, limit)
    _set_swap(path, swap)


def set(path: str, res: dict) -> None:  # noqa: A001 - the controller verb
    m = res.get("memory") or {}
    _set_memory_and_swap(path, m.get("limit") or 0, m.get("swap") or 0)
    # kernel is accepted and ignored, as runc does: since Linux 6.1 the kernel refuses
    # it.  kernelTCP still works in v1, and crun sets it: so do we (runc ignores it).
    if m.get("kernelTCP") and files.exists(path, TCP_LIMIT):
        files.write(path, TCP_LIMIT, str(m["kernelTCP"]))
    if m.get("reservation"):
        files.write(path, "memory.soft_limit_in_bytes", str(m["reservation"]))
    if m.get("disableOOMKiller"):
        files.write(path, "memory.oom_control", "1")
    if m.get("swappiness") is not None:
        files.write(path, "memory.swappiness", str(m["swappiness"]))


def oom_kill_count(path: str) -> int:
    for line in files.read(path, "memory.oom_control").splitlines():
        key, _, value = line.partition(" ")
        if key == "oom_kill":
            return files.parse_uint(value)
    return 0


def _entry(path: str, prefix: str, optional: bool) -> dict | None:
    try:
        usage = files.read_uint(path, prefix + ".usage_in_bytes")
    except CgroupFileError as e:
        if optional and e.errno == errno.ENOENT:
            return None
        raise
    return {"limit": files.read_uint(path, prefix + ".limit_in_bytes"),
            "usage": usage,
            "max": files.read_uint(path, prefix + ".max_usage_in_bytes"),
            "failcnt": files.read_uint(path, prefix + ".failcnt")}


def stats(path: str, st: dict) -> None:
    try:
        raw = files.read_keyed(path, "memory.stat")
    except CgroupFileError as e:
        if e.errno == errno.ENOENT:
            return
        raise
    mem = st["memory"]
    mem["raw"] = raw
    mem["cache"] = raw.get("cache", 0)
    mem["usage"] = _entry(path, "memory", False)
    for key, prefix in (("swap", "memory.memsw"), ("kernel", "memory.kmem"),
                        ("kernelTCP", "memory.kmem.tcp")):
        entry = _entry(path, prefix, True)
        if entry is not None:
            mem[key] = entry


class OomWatcher:
    """OOM notifications of a v1 memory cgroup through cgroup.event_control + eventfd."""

    def __init__(self, path: str) -> None:
        import os

        self._os = os
        self.control = os.path.join(path, "cgroup.event_control")
        self.efd = os.eventfd(0, os.EFD_CLOEXEC)
        try:
            self.oom_fd = os.open(os.path.join(path, "memory.oom_control"),
                                  os.O_RDONLY | os.O_CLOEXEC)
        except OSError as e:
            os.close(self.efd)
            raise CgroupError(f"open {path}/memory.oom_control: {files.describe(e)}") from None
        try:
            files.write(path, "cgroup.event_control", f"{self.efd} {self.oom_fd}")
        except CgroupError:
            self.close()
            raise

    def fileno(self) -> int:
        return self.efd

    def wait(self, timeout: float | None) -> list[str] | None:
        """Events seen within ``timeout`` seconds; None once the cgroup is gone."""
        import select

        p = select.poll()
        p.register(self.efd, select.POLLIN)
        if not p.poll(None if timeout is None else max(0, int(timeout * 1000))):
            return []
        self._os.eventfd_read(self.efd)
        # Removing the cgroup also signals the eventfd.
        if not self._os.path.exists(self.control):
            return None
        return ["oom"]

    def close(self) -> None:
        for fd in (getattr(self, "oom_fd", -1), self.efd):
            if fd >= 0:
                self._os.close(fd)
        self.oom_fd = self.efd = -1
