"""v1 cpuacct controller: CPU usage statistics only."""

from __future__ import annotations

import os

from runtime.cgroups import CgroupError, files

NS_PER_TICK = 1_000_000_000 // 100   # runc assumes USER_HZ = 100


def stats(path: str, st: dict) -> None:
    if not os.path.isdir(path):
        return
    usage = st["cpu"]["usage"]
    fields = files.read(path, "cpuacct.stat").split()
    if len(fields) < 4 or fields[0] != "user" or fields[2] != "system":
        raise CgroupError(f"malformed {path}/cpuacct.stat")
    usage["user"] = int(fields[1]) * NS_PER_TICK
    usage["kernel"] = int(fields[3]) * NS_PER_TICK
    usage["total"] = files.read_uint(path, "cpuacct.usage")
    usage["percpu"] = [int(v) for v in files.read(path, "cpuacct.usage_percpu").split()]
    kernel, user = [], []
    if files.exists(path, "cpuacct.usage_all"):
        for line in files.read(path, "cpuacct.usage_all").splitlines()[1:]:
            cols = line.split()
            if len(cols) == 3:
                user.append(int(cols[1]))
                kernel.append(int(cols[2]))
    usage["percpu_kernel"] = kernel
    usage["percpu_user"] = user
