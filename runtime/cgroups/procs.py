"""Which processes a cgroup holds, and moving one in (cgroup.procs)."""

from __future__ import annotations

import errno
import os
import time

from runtime.cgroups import files
from runtime.cgroups.files import CgroupFileError

TYPE_CHECKING = False  # typing costs ~7 ms of imports
if TYPE_CHECKING:
    from collections.abc import Collection


def write_procs(path: str, pid: int) -> None:
    """Move ``pid`` into the cgroup at ``path`` (retrying the kernel's transient EINVAL)."""
    for attempt in range(5):
        try:
            files.write(path, "cgroup.procs", str(pid))
            return
        except CgroupFileError as e:
            # A task still being forked (TASK_NEW) cannot be moved yet.
            if e.errno != errno.EINVAL or attempt == 4:
                raise CgroupFileError(f"failed to write {pid} to {path}/cgroup.procs: "
                                      f"{os.strerror(e.errno).lower()}", e.errno) from None
            time.sleep(0.03)


def joined_itself(key: str, path: str, pid: int, joined: Collection[str]) -> bool:
    """Whether the process is in cgroup ``key`` (at ``path``) by its own doing
    (runtime/process/cgroup_join.py): a v1 join it reports is trusted (a failed
    one stops it, but for a best-effort one, which apply() would skip as well);
    its cgroup2 one is checked, as clone3 may have refused."""
    if key not in joined:
        return False
    return bool(key) or pid in read_procs(path)


def read_procs(path: str) -> list[int]:
    try:
        text = files.read(path, "cgroup.procs")
    except CgroupFileError as e:
        if e.errno == errno.ENOENT:
            return []
        raise
    return [int(x) for x in text.split()]


def all_pids(path: str) -> list[int]:
    """Every process in the cgroup at ``path`` and below it."""
    out: list[int] = []
    if not os.path.isdir(path):
        return out
    for root, dirs, _ in os.walk(path):
        out.extend(read_procs(root))
        dirs.sort()
    return out
