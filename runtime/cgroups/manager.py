"""The cgroup driver factory: which Manager (runtime/cgroups/interface.py) a
container gets, for a new one from the host's layout and the flags, for an
existing one from its state.  The drivers never import this module."""

from __future__ import annotations

from runtime.cgroups import CgroupError
from runtime.cgroups.interface import STATE_VERSION, Manager


def for_container(container_id: str, cgroups_path: str | None, *, systemd: bool = False,
                  rootless: bool = False, annotations: dict | None = None) -> Manager:
    from runtime.cgroups import mounts, paths

    if systemd:
        from runtime.cgroups.systemd import systemd_manager

        return systemd_manager(container_id, cgroups_path, rootless=rootless,
                               annotations=annotations)
    h = mounts.hierarchies()
    inner = paths.inner_path(container_id, cgroups_path)
    own = None if inner.startswith("/") else mounts.own_cgroups()
    mode = h.mode
    if mode == "unified":
        from runtime.cgroups.v2.manager import V2Manager

        return V2Manager(paths.v2_path(h, inner, own), mount=h.unified.mountpoint,
                         container_id=container_id, cgroups_path=cgroups_path,
                         rootless=rootless)
    if mode == "none":
        raise CgroupError("no cgroup mount found in mountinfo")
    from runtime.cgroups.v1.manager import V1Manager

    return V1Manager(paths.v1_paths(h, inner, own), mode=mode,
                     unified_mount=h.unified.mountpoint if h.unified else "",
                     container_id=container_id, cgroups_path=cgroups_path, rootless=rootless)


def from_state(saved: dict) -> Manager:
    if not isinstance(saved, dict) or saved.get("version") != STATE_VERSION:
        raise CgroupError("unsupported cgroup state (written by another pyrunc version?)")
    common = {
        "container_id": saved.get("container_id", ""),
        "cgroups_path": saved.get("cgroups_path"),
        "rootless": bool(saved.get("rootless")),
        "resources": saved.get("resources") or {},
        "created": saved.get("created") or [],
    }
    if saved.get("mode") == "unified":
        from runtime.cgroups.v2.manager import V2Manager

        fs: Manager = V2Manager(saved["path"], mount=saved["mount"], **common)
    else:
        from runtime.cgroups.v1.manager import V1Manager

        fs = V1Manager(dict(saved["paths"]), mode=saved["mode"],
                       unified_mount=saved.get("unified_mount", ""), **common)
    if saved.get("driver") == "systemd":
        from runtime.cgroups import systemd

        return systemd.from_state(fs, saved)
    return fs
