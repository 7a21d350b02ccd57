"""v1 cpu controller: shares, CFS quota/period/burst, idle, realtime budget, throttling."""

from __future__ import annotations

import errno

from runtime.cgroups import CgroupError, files
from runtime.cgroups.files import CgroupFileError


def requested(res: dict) -> bool:
    c = res.get("cpu")
    if not c:
        return False
    return bool(c.get("shares") or c.get("quota") or c.get("period")
                or c.get("realtimeRuntime") or c.get("realtimePeriod")
                or c.get("burst") is not None or c.get("idle") is not None)


def rt_requested(res: dict) -> bool:
    c = res.get("cpu") or {}
    return bool(c.get("realtimeRuntime") or c.get("realtimePeriod"))


def set_rt(path: str, res: dict) -> None:
    """Realtime budget; set before a task joins (an RT task needs a non-zero budget)."""
    c = res.get("cpu") or {}
    period = c.get("realtimePeriod") or 0
    runtime = c.get("realtimeRuntime") or 0
    pending = ""
    if period:
        try:
            files.write(path, "cpu.rt_period_us", str(period))
        except CgroupFileError as e:
            # Period and runtime depend on each other: retry after the runtime.
            if e.errno != errno.EINVAL or not runtime:
                raise
            pending = str(period)
    if runtime:
        files.write(path, "cpu.rt_runtime_us", str(runtime))
        if pending:
            files.write(path, "cpu.rt_period_us", pending)


def set(path: str, res: dict) -> None:  # noqa: A001
    c = res.get("cpu") or {}
    shares = c.get("shares") or 0
    if shares:
        files.write(path, "cpu.shares", str(shares))
        # The kernel clamps out-of-range shares silently; runc reports it.
        got = files.read_uint(path, "cpu.shares")
        if shares > got:
            raise CgroupError(f"the maximum allowed cpu-shares is {got}")
        if shares < got:
            raise CgroupError(f"the minimum allowed cpu-shares is {got}")

    quota = c.get("quota") or 0
    period = c.get("period") or 0
    burst = c.get("burst")
    pending_period = pending_burst = ""
    if period:
        try:
            files.write(path, "cpu.cfs_period_us", str(period))
        except CgroupFileError as e:
            # A shorter period can exceed the parent's quota until the quota is set.
            if e.errno != errno.EINVAL or not quota:
                raise
            pending_period = str(period)
    if burst is not None:
        try:
            files.write(path, "cpu.cfs_burst_us", str(burst))
        except CgroupFileError as e:
            if e.errno == errno.ENOENT:
                pass  # kernel without CFS burst
            elif e.errno != errno.EINVAL or not quota:
                raise
            else:
                pending_burst = str(burst)
    if quota:
        files.write(path, "cpu.cfs_quota_us", str(quota))
        if pending_period:
            files.write(path, "cpu.cfs_period_us", pending_period)
        if pending_burst:
            files.write(path, "cpu.cfs_burst_us", pending_burst)
    if c.get("idle") is not None:
        files.write(path, "cpu.idle", str(c["idle"]))
    set_rt(path, res)


def stats(path: str, st: dict) -> None:
    try:
        values = files.read_keyed(path, "cpu.stat")
    except CgroupFileError as e:
        if e.errno == errno.ENOENT:
            return
        raise
    t = st["cpu"]["throttling"]
    t["periods"] = values.get("nr_periods", 0)
    t["throttledPeriods"] = values.get("nr_throttled", 0)
    t["throttledTime"] = values.get("throttled_time", 0)
