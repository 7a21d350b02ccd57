"""v1 hugetlb controller: per page-size limits and usage."""

from __future__ import annotations

import os

from runtime.cgroups import files
from runtime.cgroups.stats import hugepage_sizes


def requested(res: dict) -> bool:
    return bool(res.get("hugepageLimits"))


def set(path: str, res: dict) -> None:  # noqa: A001
    for h in res.get("hugepageLimits") or []:
        files.write(path, f"hugetlb.{h['pageSize']}.limit_in_bytes", str(h["limit"]))


def stats(path: str, st: dict) -> None:
    if not os.path.isdir(path):
        return
    for size in hugepage_sizes():
        prefix = f"hugetlb.{size}."
        st["hugetlb"][size] = {
            "usage": files.read_uint(path, prefix + "usage_in_bytes"),
            "max": files.read_uint(path, prefix + "max_usage_in_bytes"),
            "failcnt": files.read_uint(path, prefix + "failcnt"),
        }
