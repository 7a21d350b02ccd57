"""Is a container's cgroup frozen?  Decided from its saved cgroup state.

`state` and `list` ask this of every running container; building the Manager
for it imports the manager, v1/v2 driver and resource modules (~2 ms a command).
This picks the freezer the way the Manager does (Manager.to_state(): v1/hybrid
"paths", unified "path") and asks that controller's own module, so the answer is
``from_state(saved).is_frozen()``'s.
"""

from __future__ import annotations


def is_frozen(saved: dict) -> bool:
    if saved.get("mode") == "unified":
        from runtime.cgroups.v2 import freezer

        path = saved.get("path") or ""
    else:
        paths = saved.get("paths") or {}
        path = paths.get("freezer") or ""
        if path:
            from runtime.cgroups.v1 import freezer
        else:
            from runtime.cgroups.v2 import freezer

            path = paths.get("") or ""
    if not path:
        return False
    try:
        return freezer.state(path) == "FROZEN"
    except Exception:  # noqa: BLE001 - a vanished cgroup is not a paused one
        return False
