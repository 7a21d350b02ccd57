"""Is a container's cgroup frozen?  Read straight from its saved cgroup state.

`state` and `list` ask this of every running container; building the Manager
for it imports the manager, v1/v2 and controller modules (~2 ms a command).
Same answer as ``from_state(saved).is_frozen()``; kept in step with
Manager.to_state() (v1/hybrid "paths", unified "path").
"""

from __future__ import annotations


def is_frozen(saved: dict) -> bool:
    if saved.get("mode") == "unified":
        return _read(saved.get("path") or "", "cgroup.freeze") == "1"
    paths = saved.get("paths") or {}
    if paths.get("freezer"):
        return _read(paths["freezer"], "freezer.state") == "FROZEN"
    if paths.get(""):
        return _read(paths[""], "cgroup.freeze") == "1"
    return False


def _read(path: str, name: str) -> str:
    if not path:
        return ""
    try:
        with open(f"{path}/{name}", "rb") as f:
            return f.read().decode().strip()
    except OSError:
        return ""  # a vanished cgroup is not a paused one
