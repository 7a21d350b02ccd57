"""Pay the kernel's first-migration cost off the critical path.

Moving a task between cgroups takes the kernel's global threadgroup lock for
writing; when no other migration happened in the last grace period, the writer
first waits for a full RCU grace period (6-20 ms on this kind of VM, measured:
the first of ten cgroup.procs writes takes it, the other nine ~20 us each).
runc pays it while its init waits.  We start it as soon as the container's
cgroups exist: a short-lived thread moves *itself* into one of them, blocking
in the kernel (GIL released) while the main thread imports, builds the plan and
spawns the init.  The init's own migration then finds the lock fast.

Only v1 hierarchies have a per-thread ``tasks`` file.  `create` uses a directory
it just made (empty, never frozen); `exec` one of the container's cgroups but
never its freezer; only hierarchies whose limits cannot bite a thread that only
blocks.  On cgroup2 there is nothing to do.  The thread exits once the process
has joined.
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
        # Bounded: a thread frozen by someone else's freezer write must not hang us.
        if self._done.acquire(timeout=1.0):
            self._done.release()


def for_new(mgr) -> Warmup | None:
    """For `create`: in a v1 directory ``mgr.create()`` just made, if any."""
    made = set(mgr.created)
    paths = getattr(mgr, "paths", None) or {}
    return _start({key: path for key, path in paths.items() if path in made}, _PREFERRED)


def for_exec(paths: dict[str, str]) -> Warmup | None:
    """For `exec`: in one of the cgroups it joins, never the freezer (it may be frozen
    under --ignore-paused)."""
    return _start(paths, tuple(s for s in _PREFERRED if s != "freezer"))


def _start(paths: dict[str, str], order: tuple[str, ...]) -> Warmup | None:
    for sub in order:
        path = paths.get(sub)
        if path:
            return Warmup(path)
    return None
