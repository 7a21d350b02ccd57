"""v1 perf_event controller: nothing to set; joining it lets perf monitor the container."""

from __future__ import annotations


def requested(res: dict) -> bool:
    return False
