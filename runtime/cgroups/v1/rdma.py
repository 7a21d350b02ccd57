"""rdma controller (same file format on v1 and v2): HCA handle/object limits."""

from __future__ import annotations

import errno

from runtime.cgroups import files
from runtime.cgroups.files import CgroupFileError

MAX_UINT32 = (1 << 32) - 1


def requested(res: dict) -> bool:
    return bool(res.get("rdma"))


def set(path: str, res: dict) -> None:  # noqa: A001
    for device, limits in (res.get("rdma") or {}).items():
        line = device
        if limits.get("hcaHandles") is not None:
            line += f" hca_handle={limits['hcaHandles']}"
        if limits.get("hcaObjects") is not None:
            line += f" hca_object={limits['hcaObjects']}"
        files.write(path, "rdma.max", line)


def _entries(path: str, name: str) -> list[dict]:
    out = []
    for line in files.read(path, name).splitlines():
        parts = line.split()
        if len(parts) != 3:
            continue
        entry = {"device": parts[0], "hca_handles": 0, "hca_objects": 0}
        for kv in parts[1:]:
            key, _, value = kv.partition("=")
            number = MAX_UINT32 if value == "max" else int(value)
            if key == "hca_handle":
                entry["hca_handles"] = number
            elif key == "hca_object":
                entry["hca_objects"] = number
        out.append(entry)
    return out


def stats(path: str, st: dict) -> None:
    # runc gathers these but its events JSON has no rdma section; keep them aside.
    try:
        current = _entries(path, "rdma.current")
    except CgroupFileError as e:
        if e.errno == errno.ENOENT:
            return
        raise
    st.setdefault("_rdma", {"current": current, "limit": _entries(path, "rdma.max")})
