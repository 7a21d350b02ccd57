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
The drivers (v1/manager.py, v2/manager.py, systemd/) import this module; the
factory (manager.py) imports them, never the other way round.
"""

from __future__ import annotations

import os

from runtime.cgroups import CgroupError, files
from runtime.cgroups.files import CgroupFileError

TYPE_CHECKING = False  # typing costs ~7 ms of imports
if TYPE_CHECKING:
    from collections.abc import Collection

STATE_VERSION = 1


class Manager:
    """What the lifecycle may ask of a container's cgroups (see module docstring)."""

    mode = ""

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
