"""v2 pids controller."""

from __future__ import annotations

import errno

from runtime.cgroups import files
from runtime.cgroups.files import MAX_UINT64, CgroupFileError
from runtime.cgroups.v1.pids import limit_value


def requested(res: dict) -> bool:
    return bool((res.get("pids") or {}).get("limit"))


def set(path: str, res: dict) -> None:  # noqa: A001
    limit = (res.get("pids") or {}).get("limit") or 0
    if limit:
        files.write(path, "pids.max", limit_value(limit))


def stats(path: str, st: dict) -> None:
    try:
        current = files.read_uint(path, "pids.current")
    except CgroupFileError as e:
        if e.errno != errno.ENOENT:
            raise
        # No pids controller here: count the processes instead, like runc.
        st["pids"]["current"] = files.read(path, "cgroup.procs").count("\n")
        st["pids"]["limit"] = 0
        return
    limit = files.read_uint(path, "pids.max")
    st["pids"]["current"] = current
    st["pids"]["limit"] = 0 if limit == MAX_UINT64 else limit
