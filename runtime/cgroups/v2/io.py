"""v2 io controller: OCI blockIO mapped to io.weight / io.bfq.weight and io.max."""

from __future__ import annotations

import errno

from runtime.cgroups import files
from runtime.cgroups import stats as stats_mod
from runtime.cgroups.files import CgroupFileError

THROTTLES = (("throttleReadBpsDevice", "rbps"), ("throttleWriteBpsDevice", "wbps"),
             ("throttleReadIOPSDevice", "riops"), ("throttleWriteIOPSDevice", "wiops"))


def blkio_weight_to_io_weight(weight: int) -> int:
    """runc's mapping of blkio weight [10, 1000] onto io.weight [1, 10000]."""
    if weight == 0:
        return 0
    return 1 + (weight - 10) * 9999 // 990


def requested(res: dict) -> bool:
    b = res.get("blockIO") or {}
    return bool(b.get("weight") or b.get("weightDevice")
                or any(b.get(key) for key, _ in THROTTLES))


def set(path: str, res: dict) -> None:  # noqa: A001
    b = res.get("blockIO") or {}
    bfq = files.exists(path, "io.bfq.weight")
    if b.get("weight"):
        if bfq:     # BFQ takes the v1-range weight directly
            files.write(path, "io.bfq.weight", str(b["weight"]))
        else:
            files.write(path, "io.weight", str(blkio_weight_to_io_weight(b["weight"])))
    if bfq and b.get("weightDevice"):
        # Only newer kernels accept "major:minor weight" lines in io.bfq.weight.
        current = files.read(path, "io.bfq.weight").strip()
        per_device = not current.isdigit()
        for wd in b["weightDevice"]:
            if per_device and wd.get("weight"):
                files.write(path, "io.bfq.weight",
                            f"{wd['major']}:{wd['minor']} {wd['weight']}\n")
    for key, name in THROTTLES:
        for td in b.get(key) or []:
            files.write(path, "io.max", f"{td['major']}:{td['minor']} {name}={td['rate']}")


def stats(path: str, st: dict) -> None:
    try:
        text = files.read(path, "io.stat")
    except CgroupFileError as e:
        if e.errno == errno.ENOENT:
            return
        raise
    by_bytes, by_ios = [], []
    for line in text.splitlines():
        parts = line.split()
        if len(parts) < 2 or ":" not in parts[0]:
            continue
        major, _, minor = parts[0].partition(":")
        for item in parts[1:]:
            key, _, value = item.partition("=")
            target = {"rbytes": (by_bytes, "Read"), "wbytes": (by_bytes, "Write"),
                      "rios": (by_ios, "Read"), "wios": (by_ios, "Write")}.get(key)
            if target:
                target[0].append(stats_mod.blkio_entry(int(major), int(minor), target[1],
                                                       int(value)))
    st["blkio"]["ioServiceBytesRecursive"] = by_bytes
    st["blkio"]["ioServicedRecursive"] = by_ios
