"""v1 blkio controller: weights (CFQ or BFQ files), throttling, I/O statistics."""

from __future__ import annotations

import errno

from runtime.cgroups import CgroupError, files
from runtime.cgroups import stats as stats_mod
from runtime.cgroups.files import CgroupFileError, q

THROTTLE_FILES = (
    ("throttleReadBpsDevice", "blkio.throttle.read_bps_device"),
    ("throttleWriteBpsDevice", "blkio.throttle.write_bps_device"),
    ("throttleReadIOPSDevice", "blkio.throttle.read_iops_device"),
    ("throttleWriteIOPSDevice", "blkio.throttle.write_iops_device"),
)


def requested(res: dict) -> bool:
    b = res.get("blockIO")
    if not b:
        return False
    return bool(b.get("weight") or b.get("leafWeight") or b.get("weightDevice")
                or any(b.get(key) for key, _ in THROTTLE_FILES))


def _weight_files(path: str) -> tuple[str, str]:
    # Kernels without CFQ only offer the BFQ scheduler's files.
    if files.exists(path, "blkio.weight"):
        return "blkio.weight", "blkio.weight_device"
    return "blkio.bfq.weight", "blkio.bfq.weight_device"


def set(path: str, res: dict) -> None:  # noqa: A001
    b = res.get("blockIO") or {}
    weight_file, weight_device_file = _weight_files(path)
    if b.get("weight"):
        files.write(path, weight_file, str(b["weight"]))
    if b.get("leafWeight"):
        files.write(path, "blkio.leaf_weight", str(b["leafWeight"]))
    for wd in b.get("weightDevice") or []:
        dev = f"{wd['major']}:{wd['minor']}"
        if wd.get("weight"):
            files.write(path, weight_device_file, f"{dev} {wd['weight']}")
        if wd.get("leafWeight"):
            files.write(path, "blkio.leaf_weight_device", f"{dev} {wd['leafWeight']}")
    for key, name in THROTTLE_FILES:
        for td in b.get(key) or []:
            files.write(path, name, f"{td['major']}:{td['minor']} {td['rate']}")


def _read_entries(path: str, name: str) -> list[dict] | None:
    """Parse "8:0 Read 123" lines; None when the file does not exist."""
    try:
        text = files.read(path, name)
    except CgroupFileError as e:
        if e.errno == errno.ENOENT:
            return None
        raise
    out = []
    for line in text.splitlines():
        fields = line.replace(":", " ").split()
        if len(fields) < 3:
            if len(fields) == 2 and fields[0] == "Total":
                continue
            raise CgroupError(f"malformed line {q(line)} in {path}/{name}")
        op, value = ("", fields[2]) if len(fields) == 3 else (fields[2], fields[3])
        out.append(stats_mod.blkio_entry(int(fields[0]), int(fields[1]), op, int(value)))
    return out


# runc tries these groups in order and uses the first whose first file exists.
_STAT_GROUPS = (
    (("blkio.bfq.sectors_recursive", "sectorsRecursive"),
     ("blkio.bfq.io_service_time_recursive", "ioServiceTimeRecursive"),
     ("blkio.bfq.io_wait_time_recursive", "ioWaitTimeRecursive"),
     ("blkio.bfq.io_merged_recursive", "ioMergedRecursive"),
     ("blkio.bfq.io_queued_recursive", "ioQueueRecursive"),
     ("blkio.bfq.time_recursive", "ioTimeRecursive"),
     ("blkio.bfq.io_serviced_recursive", "ioServicedRecursive"),
     ("blkio.bfq.io_service_bytes_recursive", "ioServiceBytesRecursive")),
    (("blkio.bfq.io_serviced_recursive", "ioServicedRecursive"),
     ("blkio.bfq.io_service_bytes_recursive", "ioServiceBytesRecursive")),
    (("blkio.sectors_recursive", "sectorsRecursive"),
     ("blkio.io_service_time_recursive", "ioServiceTimeRecursive"),
     ("blkio.io_wait_time_recursive", "ioWaitTimeRecursive"),
     ("blkio.io_merged_recursive", "ioMergedRecursive"),
     ("blkio.io_queued_recursive", "ioQueueRecursive"),
     ("blkio.time_recursive", "ioTimeRecursive"),
     ("blkio.io_serviced_recursive", "ioServicedRecursive"),
     ("blkio.io_service_bytes_recursive", "ioServiceBytesRecursive")),
    (("blkio.throttle.io_serviced_recursive", "ioServicedRecursive"),
     ("blkio.throttle.io_service_bytes_recursive", "ioServiceBytesRecursive")),
    (("blkio.throttle.io_serviced", "ioServicedRecursive"),
     ("blkio.throttle.io_service_bytes", "ioServiceBytesRecursive")),
)


def stats(path: str, st: dict) -> None:
    for group in _STAT_GROUPS:
        for i, (name, key) in enumerate(group):
            entries = _read_entries(path, name)
            if not entries:
                if i == 0:
                    break       # this scheduler's files are absent or empty: next group
                return          # runc keeps what it found so far
            st["blkio"][key] = entries
        else:
            return
