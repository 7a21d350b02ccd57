"""events: the container's stats (once or every interval) and OOM notices, as JSON lines.

Output matches runc: ``{"type":"stats","id":...,"data":{...}}`` and
``{"type":"oom","id":...}``, one compact JSON object per line.  Without
``--stats`` it runs until the container's cgroup goes away (or it is killed).
"""

from __future__ import annotations

import json
import sys
import time

from runtime.errors import PyruncError
from runtime.lifecycle.container import Container
from runtime.lifecycle.pause import cgroup_manager
from runtime.state.store import Store

_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "μs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0,
          "h": 3600.0}


def parse_duration(text: str) -> float:
    """Go's time.ParseDuration ("5s", "1m30s", "250ms", "0") in seconds."""
    s = text.strip()
    sign = -1.0 if s.startswith("-") else 1.0
    s = s.lstrip("+-")
    if s == "0":
        return 0.0
    if not s:
        raise PyruncError(f'time: invalid duration "{text}"')
    total = 0.0
    while s:
        i = 0
        while i < len(s) and (s[i].isdigit() or s[i] == "."):
            i += 1
        number, s = s[:i], s[i:]
        j = 0
        while j < len(s) and not (s[j].isdigit() or s[j] == "."):
            j += 1
        unit, s = s[:j], s[j:]
        if not number or number == "." or unit not in _UNITS:
            raise PyruncError(f'time: invalid duration "{text}"')
        total += float(number) * _UNITS[unit]
    return sign * total


def _emit(out, event: dict) -> None:
    out.write(json.dumps(event, separators=(",", ":"), ensure_ascii=False) + "\n")
    out.flush()


def events(ctx, container_id: str, interval: float = 5.0, stats_only: bool = False,
           out=None) -> None:
    out = out or sys.stdout
    if interval <= 0:
        raise PyruncError("duration interval must be greater than 0")
    c = Container.load(Store(ctx.root), container_id)
    if c.status() == "stopped":
        raise PyruncError(f"container with id {container_id} is not running")
    mgr = cgroup_manager(c)
    if stats_only:
        _emit(out, {"type": "stats", "id": container_id, "data": _stats(mgr)})
        return
    import runtime.log as logmod

    watcher = mgr.oom_watcher()
    try:
        next_stats = time.monotonic() + interval
        while True:
            seen = watcher.wait(max(0.0, next_stats - time.monotonic()))
            if seen is None:
                return          # the cgroup is gone: the container was deleted
            for kind in seen:
                _emit(out, {"type": kind, "id": container_id})
            if time.monotonic() >= next_stats:
                next_stats += interval
                try:
                    _emit(out, {"type": "stats", "id": container_id, "data": _stats(mgr)})
                except PyruncError as e:
                    logmod.log.error(str(e))
    finally:
        watcher.close()


def _stats(mgr) -> dict:
    from runtime.cgroups import CgroupError

    try:
        return mgr.stats()
    except CgroupError as e:
        raise PyruncError(f"unable to get container cgroup stats: {e}") from None
