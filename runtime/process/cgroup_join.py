"""The container process joins its cgroups by itself (csrc/cgroups.c, and
clone_into() in csrc/spawn.c), so that no kernel RCU grace period lies on the
critical path.

When the runtime writes a pid to cgroup.procs, the kernel takes its global
threadgroup lock, and the first such write after an idle moment waits for a
full RCU grace period (6-20 ms on a VM; runc pays it on every create and exec).
A thread moving itself through a v1 "tasks" file takes no such lock, and a
process cloned into a cgroup2 directory needs no move at all.  The runtime opens
those files here; Manager.apply() at the "cgroups" sync moves the process into
whatever it could not join itself (rootless, a refused clone3).
"""

from __future__ import annotations

import os

from runtime.native import lib

TYPE_CHECKING = False  # typing costs ~7 ms of imports
if TYPE_CHECKING:
    from collections.abc import Collection

    from runtime.native.plan import Plan


class CgroupJoin:
    """The fds for one process's joins; close() once it is spawned."""

    def __init__(self, paths: dict[str, str], best_effort: Collection[str] = ()) -> None:
        self.tasks: list[tuple[str, int, bool]] = []   # (path, fd, best effort), in order
        self.cgroup_fd = -1
        self.keys: set[str] = set()                     # for Manager.apply(joined=...)
        # The freezer last: a frozen one stops the process there (exec --ignore-paused).
        for key in sorted(paths, key=lambda k: k == "freezer"):
            path = paths[key]
            try:
                if key:
                    path = os.path.join(path, "tasks")
                    fd = os.open(path, os.O_WRONLY | os.O_CLOEXEC)
                    self.tasks.append((path, fd, key in best_effort))
                else:
                    self.cgroup_fd = os.open(path, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
            except OSError:
                continue   # Manager.apply() moves it, and reports what is wrong
            self.keys.add(key)

    def add_to(self, plan: Plan) -> None:
        """The joins, where the process is to be in its cgroups (before a new
        cgroup namespace, so that they are its root)."""
        for path, fd, best_effort in self.tasks:
            plan.add(lib.OP_JOIN_CGROUP, f"join the cgroup {os.path.dirname(path)}", fd=fd,
                     flags=1 if best_effort else 0, s=(path,))
        plan.cgroup_fd = self.cgroup_fd

    def close(self) -> None:
        for fd in [fd for _, fd, _ in self.tasks] + [self.cgroup_fd]:
            if fd >= 0:
                os.close(fd)
        self.tasks = []
        self.cgroup_fd = -1
