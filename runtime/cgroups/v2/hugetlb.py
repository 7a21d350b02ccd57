"""v2 hugetlb controller: hugetlb.<size>.max and usage."""

from __future__ import annotations

import os

from runtime.cgroups import files
from runtime.cgroups.stats import hugepage_sizes


def requested(res: dict) -> bool:
    return bool(res.get("hugepageLimits"))


def set(path: str, res: dict) -> None:  # noqa: A001
    for h in res.get("hugepageLimits") or []:
        files.write(path, f"hugetlb.{h['pageSize']}.max", str(h["limit"]))


def stats(path: str, st: dict) -> None:
    sizes = hugepage_sizes()
    if not sizes or not os.path.exists(os.path.join(path, f"hugetlb.{sizes[0]}.current")):
        return
    for size in sizes:
        st["hugetlb"][size] = {
            "usage": files.read_uint(path, f"hugetlb.{size}.current"),
            "max": 0,
            "failcnt": files.read_keyed(path, f"hugetlb.{size}.events").get("max", 0),
        }
