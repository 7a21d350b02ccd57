"""The cgroup Manager interface that every driver implements.

One Manager per container.  The lifecycle drives it as::

    mgr = for_container(id, spec_cgroups_path)   # computes paths, touches nothing
    mgr.create()                                 # mkdir everywhere
    mgr.set(linux_resources)                     # validate, then write limits
    mgr.apply(init_pid)                          # move the process in (what it did
                                                 # not join itself: joinable_paths)
    state["cgroups"] = mgr.to_state()
    ...
    from_state(state["cgroups"]).destroy()

``set`` may also come after ``apply`` (runc's order); both work.  On any error
the caller calls ``destroy()``, which removes every directory ``create`` made.
The drivers (v1/manager.py, v2/manager.py, systemd/) import this module, with
the helpers they share (cgroup.procs, removal); the factory (manager.py)
imports them, never the other way round.  One module, not three: each file
is an import on every create.
"""

from __future__ import annotations

import errno
import os
import time

from runtime.cgroups import CgroupError, files
from runtime.cgroups.files import CgroupFileError

TYPE_CHECKING = False  # typing costs ~7 ms of imports
if TYPE_CHECKING:
    from collections.abc import Collection

STATE_VERSION = 1


class Manager:
    """What the lifecycle may ask of a container's cgroups (see module docstring)."""

    mode = ""
    # False where a cgroup that exists already is refused anyway (a taken systemd
    # unit): create then says that, without runc's "not empty" warning first.
    joins_existing = True

    def __init__(self, *, container_id: str = "", cgroups_path: str | None = None,
                 rootless: bool = False, resources: dict | None = None,
                 created: list[str] | None = None) -> None:
        self.container_id = container_id
        self.cgroups_path = cgroups_path
        self.rootless = rootless
        self.resources: dict = resources if resources is not None else {}
        self.created: list[str] = list(created or [])   # dirs we made, parents first
        self.warnings: list[str] = []                   # for the caller to print

    # -- the interface ------------------------------------------------------
    def create(self) -> None:
        raise NotImplementedError

    def apply(self, pid: int, joined: Collection[str] = ()) -> None:
        """Put pid in the container's cgroups.  ``joined``: the keys of
        joinable_paths() the process joined (or, for cgroup2, was cloned into)
        by itself; cgroup2 is checked, the rest is trusted."""
        raise NotImplementedError

    def joinable_paths(self) -> dict[str, str]:
        """Cgroups the container process may join by itself, cheaply: controller
        -> v1 directory ("" -> the cgroup2 directory to clone it into).  See
        runtime/process/cgroup_join.py."""
        return {}

    def set(self, resources: dict, *, linux_devices: list | None = None) -> None:  # noqa: A003
        raise NotImplementedError

    def update(self, resources: dict) -> None:
        raise NotImplementedError

    def freeze(self) -> None:
        raise NotImplementedError

    def thaw(self) -> None:
        raise NotImplementedError

    def is_frozen(self) -> bool:
        return self.freezer_state() == "FROZEN"

    def freezer_state(self) -> str:
        """"FROZEN", "THAWED" or "" when there is no freezer."""
        raise NotImplementedError

    def pids(self) -> list[int]:
        raise NotImplementedError

    def stats(self) -> dict:
        raise NotImplementedError

    def oom_kill_count(self) -> int:
        raise NotImplementedError

    def oom_watcher(self):
        """An object whose ``wait(timeout)`` returns ["oom", ...], [] or None (cgroup gone)."""
        raise NotImplementedError

    def destroy(self) -> None:
        raise NotImplementedError

    def exists(self) -> bool:
        raise NotImplementedError

    def _set_back(self, write_old) -> None:
        """After a failed update, put the previous values back (as runc does)."""
        try:
            write_old()
        except CgroupError as e:
            self.warnings.append(f"Setting back cgroup configs failed due to error: {e}, "
                                 "your state.json and actual configs might be inconsistent.")

    def _remember(self, res: dict) -> None:
        # In place: a to_state() taken before set() (and saved later) stays current.
        self.resources.clear()
        self.resources.update(res)

    def to_state(self) -> dict:
        return {
            "version": STATE_VERSION,
            "driver": "cgroupfs",
            "mode": self.mode,
            "container_id": self.container_id,
            "cgroups_path": self.cgroups_path,
            "rootless": self.rootless,
            "created": list(self.created),
            "resources": self.resources,
        }

    # -- helpers for the implementations --------------------------------------
    def _make_dirs(self, path: str) -> list[str]:
        """mkdir -p that records each level it creates (parents first).  The leaf
        is tried first: its parent usually exists, and one mkdir is all it takes."""
        made: list[str] = []
        todo = [path]  # deepest last; a level is pushed when its parent is missing
        while todo:
            d = todo[-1]
            try:
                os.mkdir(d, 0o755)
            except FileExistsError:
                todo.pop()
                continue
            except FileNotFoundError:
                todo.append(os.path.dirname(d))  # ends at "/", which exists
                continue
            except OSError as e:
                raise CgroupFileError(f"mkdir {d}: {files.describe(e)}", e.errno) from None
            todo.pop()
            made.append(d)
            self.created.append(d)
        return made

    def _remove_created_parents(self, leaves: set[str]) -> None:
        """Best effort: drop the ancestors we created once they are empty."""
        kept = []
        for d in sorted(self.created, key=len, reverse=True):
            if d in leaves:
                continue  # removed by remove_paths(), or it raised
            try:
                os.rmdir(d)
            except FileNotFoundError:
                pass
            except OSError:
                kept.append(d)  # still used (another container shares the parent)
        self.created = kept


# -- cgroup.procs ------------------------------------------------------------

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
        # ENODEV: removed (by a concurrent delete) between the open and the read.
        if e.errno in (errno.ENOENT, errno.ENODEV):
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


# -- removal -----------------------------------------------------------------

def _rmdir(path: str) -> int:
    try:
        os.rmdir(path)
        return 0
    except FileNotFoundError:
        return 0
    except OSError as e:
        return e.errno or errno.EIO


def remove_path(path: str) -> int:
    """rmdir a cgroup, its sub-cgroups first; returns 0 or the errno of the failure."""
    if _rmdir(path) == 0:
        return 0
    try:
        children = [e.path for e in os.scandir(path) if e.is_dir(follow_symlinks=False)]
    except FileNotFoundError:
        return 0
    except OSError as e:
        return e.errno or errno.EIO
    for child in children:
        err = remove_path(child)
        if err:
            return err
    return _rmdir(path)


def remove_paths(paths: list[str]) -> None:
    """Remove cgroup dirs, retrying briefly while the kernel still sees tasks (EBUSY)."""
    pending = [p for p in paths if p]
    delay = 0.01
    for attempt in range(6):
        if attempt:
            time.sleep(delay)
            delay *= 2
        failed = []
        for p in pending:
            err = remove_path(p)
            if err and os.path.isdir(p):
                failed.append((p, err))
        if not failed:
            return
        pending = [p for p, _ in failed]
    listing = ", ".join(f"{p} ({os.strerror(e).lower()})" for p, e in failed)
    raise CgroupError(f"failed to remove cgroup paths: {listing}")
