"""Pay the kernel's first-migration cost off the critical path.

Moving a task between cgroups takes the kernel's global threadgroup lock for
writing; when no other migration happened in the last grace period, the writer
first waits for a full RCU grace period (6-20 ms on this kind of VM, measured:
the first of ten cgroup.procs writes takes it, the other nine ~20 us each).
runc pays it while its init waits.  We start it as soon as the container's
cgroups exist: a short-lived thread moves *itself* into one of them, blocking
in the kernel (GIL released) while the main thread imports, builds the plan and
spawns the init.  The init's own migration then finds the lock fast.

Only v1 hierarchies have a per-thread ``tasks`` file, and only a directory we
just created is used (empty, never frozen, no limits that bite a thread that
only blocks); on cgroup2 there is nothing to do.  The thread exits right after.
"""

from __future__ import annotations

import _thread
import os

# Hierarchies that never constrain a thread which only writes one file and exits.
_PREFERRED = ("freezer", "name=systemd", "cpuacct", "perf_event", "net_cls", "net_prio")


class Warmup:
    """The thread repeats its (then cheap) move every ``EVERY`` seconds until stop():
    the lock only stays fast for about one grace period after its last writer."""

    EVERY = 0.002

    def __init__(self, path: str) -> None:
        self._stop = _thread.allocate_lock()
        self._stop.acquire()
        self._done = _thread.allocate_lock()
        self._done.acquire()
        _thread.start_new_thread(self._keep_warm, (path,))

    def _keep_warm(self, path: str) -> None:
        tid = str(_thread.get_native_id()).encode()
        try:
            fd = os.open(os.path.join(path, "tasks"), os.O_WRONLY | os.O_CLOEXEC)
            try:
                while True:
                    os.write(fd, tid)
                    if self._stop.acquire(timeout=self.EVERY):
                        break
            finally:
                os.close(fd)
        except OSError:
            pass  # only a speed-up: the real migration works (or fails) on its own
        finally:
            self._done.release()

    def stop(self) -> None:
        """End the thread and wait for it (before the cgroups may be removed)."""
        if self._stop.locked():
            self._stop.release()
        self._done.acquire()
        self._done.release()


def start(mgr) -> Warmup | None:
    """Start the warm-up in a v1 directory ``mgr.create()`` just made, if any."""
    paths = getattr(mgr, "paths", None)
    if not paths:
        return None
    made = set(mgr.created)
    for sub in _PREFERRED:
        path = paths.get(sub)
        if path and path in made:
            return Warmup(path)
    return None
