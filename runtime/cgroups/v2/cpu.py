"""v2 cpu controller: weight (from OCI shares), cpu.max, burst, idle, usage stats."""

from __future__ import annotations

import errno

from runtime.cgroups import CgroupError, files
from runtime.cgroups.files import CgroupFileError


def shares_to_weight(shares: int) -> int:
    """runc's mapping of v1 shares [2, 262144] onto v2 weight [1, 10000]."""
    if shares == 0:
        return 0
    return 1 + ((shares - 2) * 9999) // 262142


def requested(res: dict) -> bool:
    c = res.get("cpu") or {}
    return bool(c.get("shares") or c.get("quota") or c.get("period")
                or c.get("burst") is not None or c.get("idle") is not None)


def check(path: str, res: dict) -> None:
    c = res.get("cpu") or {}
    if c.get("realtimeRuntime") or c.get("realtimePeriod"):
        raise CgroupError("realtime CPU scheduling (cpu.realtimeRuntime, "
                          "cpu.realtimePeriod) is not supported on cgroup v2")


def set(path: str, res: dict) -> None:  # noqa: A001
    c = res.get("cpu") or {}
    if c.get("idle") is not None:
        files.write(path, "cpu.idle", str(c["idle"]))
    weight = shares_to_weight(c.get("shares") or 0)
    if weight:
        files.write(path, "cpu.weight", str(weight))
    quota, period = c.get("quota") or 0, c.get("period") or 0
    burst = c.get("burst")
    pending_burst = ""
    if burst is not None:
        try:
            files.write(path, "cpu.max.burst", str(burst))
        except CgroupFileError as e:
            # A bigger burst may only fit once the new quota is in place.
            if e.errno != errno.EINVAL or not quota:
                raise
            pending_burst = str(burst)
    if quota or period:
        text = str(quota) if quota > 0 else "max"
        files.write(path, "cpu.max", f"{text} {period or 100000}")
        if pending_burst:
            files.write(path, "cpu.max.burst", pending_burst)


def stats(path: str, st: dict) -> None:
    try:
        values = files.read_keyed(path, "cpu.stat")
    except CgroupFileError as e:
        if e.errno == errno.ENOENT:
            return
        raise
    usage, thr = st["cpu"]["usage"], st["cpu"]["throttling"]
    usage["total"] = values.get("usage_usec", 0) * 1000
    usage["user"] = values.get("user_usec", 0) * 1000
    usage["kernel"] = values.get("system_usec", 0) * 1000
    thr["periods"] = values.get("nr_periods", 0)
    thr["throttledPeriods"] = values.get("nr_throttled", 0)
    thr["throttledTime"] = values.get("throttled_usec", 0) * 1000
