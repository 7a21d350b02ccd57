"""Container statistics in the shape of runc's ``events --stats`` "data" object.

Controllers fill a full skeleton (:func:`new`); :func:`to_runc_json` then drops
the fields runc's Go structs mark ``omitempty`` when they are zero or empty, and
keeps runc's key order, so ``json.dumps(..., separators=(",", ":"))`` of an event
matches runc's output byte for byte in layout.
"""

from __future__ import annotations

import os


def memory_entry() -> dict:
    return {"limit": 0, "usage": 0, "max": 0, "failcnt": 0}


def new() -> dict:
    return {
        "cpu": {
            "usage": {"total": 0, "percpu": [], "percpu_kernel": [], "percpu_user": [],
                      "kernel": 0, "user": 0},
            "throttling": {"periods": 0, "throttledPeriods": 0, "throttledTime": 0},
        },
        "cpuset": {"cpus": [], "cpu_exclusive": 0, "mems": [], "mem_hardwall": 0,
                   "mem_exclusive": 0, "memory_migrate": 0, "memory_spread_page": 0,
                   "memory_spread_slab": 0, "memory_pressure": 0, "sched_load_balance": 0,
                   "sched_relax_domain_level": 0},
        "memory": {"cache": 0, "usage": memory_entry(), "swap": memory_entry(),
                   "kernel": memory_entry(), "kernelTCP": memory_entry(), "raw": {}},
        "pids": {"current": 0, "limit": 0},
        "blkio": {key: [] for key in BLKIO_KEYS},
        "hugetlb": {},
        "intel_rdt": {},
        "network_interfaces": None,
    }


BLKIO_KEYS = ("ioServiceBytesRecursive", "ioServicedRecursive", "ioQueueRecursive",
              "ioServiceTimeRecursive", "ioWaitTimeRecursive", "ioMergedRecursive",
              "ioTimeRecursive", "sectorsRecursive")


def blkio_entry(major: int, minor: int, op: str, value: int) -> dict:
    return {"major": major, "minor": minor, "op": op, "value": value}


def _drop_empty(d: dict, keys: tuple[str, ...]) -> dict:
    return {k: v for k, v in d.items() if k not in keys or v}


def to_runc_json(st: dict) -> dict:
    """Apply runc's omitempty rules (Go maps are emitted with sorted keys)."""
    usage = _drop_empty(st["cpu"]["usage"], ("total", "percpu", "percpu_kernel", "percpu_user"))
    throttling = _drop_empty(st["cpu"]["throttling"],
                             ("periods", "throttledPeriods", "throttledTime"))
    mem = st["memory"]
    memory: dict = {}
    if mem["cache"]:
        memory["cache"] = mem["cache"]
    for key in ("usage", "swap", "kernel", "kernelTCP"):
        memory[key] = _drop_empty(mem[key], ("usage", "max"))
    if mem["raw"]:
        memory["raw"] = dict(sorted(mem["raw"].items()))
    blkio = {}
    for key in BLKIO_KEYS:
        entries = st["blkio"].get(key) or []
        if entries:
            blkio[key] = [_drop_empty(e, ("major", "minor", "op", "value")) for e in entries]
    return {
        "cpu": {"usage": usage, "throttling": throttling},
        "cpuset": _drop_empty(st["cpuset"], ("cpus", "mems")),
        "memory": memory,
        "pids": _drop_empty(st["pids"], ("current", "limit")),
        "blkio": blkio,
        "hugetlb": {size: _drop_empty(v, ("usage", "max"))
                    for size, v in sorted(st["hugetlb"].items())},
        "intel_rdt": st["intel_rdt"],
        "network_interfaces": st["network_interfaces"],
    }


_UNITS = ("B", "KB", "MB", "GB", "TB", "PB", "EB")


def _size_name(size: int) -> str:
    """runc's HugePageSizes naming: 2097152 -> "2MB", 1073741824 -> "1GB"."""
    value, unit = float(size), 0
    while value >= 1024 and unit < len(_UNITS) - 1:
        value /= 1024
        unit += 1
    return f"{value:g}{_UNITS[unit]}"


_page_sizes: list[str] | None = None


def hugepage_sizes() -> list[str]:
    """Huge page sizes of this machine, named as in hugetlb.<size>.* files."""
    global _page_sizes
    if _page_sizes is None:
        sizes = []
        try:
            names = os.listdir("/sys/kernel/mm/hugepages")
        except OSError:
            names = []
        for name in names:
            if name.startswith("hugepages-") and name.endswith("kB"):
                try:
                    sizes.append(int(name[len("hugepages-"):-2]) * 1024)
                except ValueError:
                    continue
        _page_sizes = [_size_name(s) for s in sorted(sizes)]
    return _page_sizes
