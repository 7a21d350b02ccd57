"""v2 cpuset controller (cpus/mems; a v2 child inherits its parent's sets when empty)."""

from __future__ import annotations

import os

from runtime.cgroups import files
from runtime.cgroups.v1.cpuset import check_subset


def requested(res: dict) -> bool:
    c = res.get("cpu") or {}
    return bool(c.get("cpus") or c.get("mems"))


def check(path: str, res: dict) -> None:
    c = res.get("cpu") or {}
    parent = os.path.dirname(path)
    check_subset(c.get("cpus"), parent, "cpuset.cpus.effective", "cpus")
    check_subset(c.get("mems"), parent, "cpuset.mems.effective", "mems")


def set(path: str, res: dict) -> None:  # noqa: A001
    c = res.get("cpu") or {}
    if c.get("cpus"):
        files.write(path, "cpuset.cpus", c["cpus"])
    if c.get("mems"):
        files.write(path, "cpuset.mems", c["mems"])
