"""v1 pids controller: the task limit and its statistics."""

from __future__ import annotations

import os

from runtime.cgroups import files
from runtime.cgroups.files import MAX_UINT64


def requested(res: dict) -> bool:
    return bool((res.get("pids") or {}).get("limit"))


def limit_value(limit: int) -> str:
    """OCI pids.limit: > 0 is the limit, < 0 means unlimited (0 means "leave alone")."""
    return str(limit) if limit > 0 else "max"


def set(path: str, res: dict) -> None:  # noqa: A001
    limit = (res.get("pids") or {}).get("limit") or 0
    if limit:
        files.write(path, "pids.max", limit_value(limit))


def stats(path: str, st: dict) -> None:
    if not os.path.isdir(path):
        return
    st["pids"]["current"] = files.read_uint(path, "pids.current")
    limit = files.read_uint(path, "pids.max")
    st["pids"]["limit"] = 0 if limit == MAX_UINT64 else limit
