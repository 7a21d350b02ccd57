"""v1 cpuset controller.

A new v1 cpuset cgroup starts with empty cpus/mems and refuses tasks until both
are filled, so every directory we create gets its parent's values (as runc does).
"""

from __future__ import annotations

import errno
import os

from runtime.cgroups import CgroupError, files
from runtime.cgroups.files import CgroupFileError, q
from runtime.cgroups.resources import parse_cpu_list


def requested(res: dict) -> bool:
    c = res.get("cpu") or {}
    return bool(c.get("cpus") or c.get("mems"))


def fill_from_parent(directory: str) -> None:
    parent = os.path.dirname(directory)
    for name in ("cpuset.cpus", "cpuset.mems"):
        if not files.read(directory, name).strip():
            files.write(directory, name, files.read(parent, name).strip())


def check(path: str, res: dict) -> None:
    """Refuse CPUs or memory nodes the parent cgroup cannot give."""
    c = res.get("cpu") or {}
    parent = os.path.dirname(path)
    for key, name in (("cpus", "cpuset.effective_cpus"), ("mems", "cpuset.effective_mems")):
        check_subset(c.get(key), parent, name, key)


def check_subset(wanted: str | None, parent: str, name: str, key: str) -> None:
    if not wanted:
        return
    try:
        available_text = files.read(parent, name).strip()
    except CgroupFileError:
        return  # cannot tell; the kernel will decide
    extra = parse_cpu_list(wanted) - parse_cpu_list(available_text)
    if extra:
        what = "CPUs" if key == "cpus" else "memory nodes"
        raise CgroupError(f"invalid cpu.{key} {q(wanted)}: {what} "
                          f"{','.join(map(str, sorted(extra)))} not available "
                          f"(the parent cgroup has {q(available_text)})")


def set(path: str, res: dict) -> None:  # noqa: A001
    c = res.get("cpu") or {}
    if c.get("cpus"):
        files.write(path, "cpuset.cpus", c["cpus"])
    if c.get("mems"):
        files.write(path, "cpuset.mems", c["mems"])


def _list(path: str, name: str) -> list[int]:
    return sorted(parse_cpu_list(files.read(path, name)))


def stats(path: str, st: dict) -> None:
    cs = st["cpuset"]
    for key, name, reader in (
        ("cpus", "cpuset.cpus", _list),
        ("cpu_exclusive", "cpuset.cpu_exclusive", files.read_uint),
        ("mems", "cpuset.mems", _list),
        ("mem_hardwall", "cpuset.mem_hardwall", files.read_uint),
        ("mem_exclusive", "cpuset.mem_exclusive", files.read_uint),
        ("memory_migrate", "cpuset.memory_migrate", files.read_uint),
        ("memory_spread_page", "cpuset.memory_spread_page", files.read_uint),
        ("memory_spread_slab", "cpuset.memory_spread_slab", files.read_uint),
        ("memory_pressure", "cpuset.memory_pressure", files.read_uint),
        ("sched_load_balance", "cpuset.sched_load_balance", files.read_uint),
        ("sched_relax_domain_level", "cpuset.sched_relax_domain_level", files.read_int),
    ):
        try:
            cs[key] = reader(path, name)
        except CgroupFileError as e:
            if e.errno != errno.ENOENT:
                raise
