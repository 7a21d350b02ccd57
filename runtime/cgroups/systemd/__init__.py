"""``--systemd-cgroup``: runc's systemd cgroup driver (docs/systemd.md).

This module only decides names and paths (cheap); the D-Bus client (dbus.py,
jeepney) is imported when a command first talks to systemd, and never
without the flag.
"""

from __future__ import annotations

import os

from runtime.cgroups import CgroupError


def is_running_systemd() -> bool:
    """Same test as systemd's sd_booted() and runc: /run/systemd/system is a directory."""
    return os.path.isdir("/run/systemd/system")


def systemd_manager(container_id: str, cgroups_path: str | None, *, rootless: bool = False,
                    annotations: dict | None = None):
    from runtime.cgroups.systemd import unit as unit_mod

    slice_, prefix, name = unit_mod.parse_path(container_id, cgroups_path)
    if not is_running_systemd():
        raise CgroupError("systemd not running on this host, cannot use systemd cgroups "
                          "manager")
    from runtime.cgroups.systemd.gvariant import annotation_properties

    extra = annotation_properties(annotations)
    slice_ = slice_ or ("user.slice" if rootless else "system.slice")
    unit = unit_mod.unit_name(prefix, name)
    inner = os.path.join(unit_mod.expand_slice(slice_), unit)
    if rootless:
        # The user's manager: its units live under its own cgroup (runc's rule,
        # and as runc, only where that subtree is delegated: cgroup v2).
        from runtime.cgroups.systemd import userbus
        from runtime.rootless import in_user_namespace

        uid = userbus.owner_uid() if in_user_namespace() else os.geteuid()
        inner = userbus.manager_cgroup(uid) + inner
    fs = fs_manager(inner, container_id=container_id, cgroups_path=cgroups_path,
                    rootless=rootless)
    if rootless and fs.mode != "unified":
        raise CgroupError("cannot use rootless systemd cgroups manager on cgroup v1")
    from runtime.cgroups.systemd.manager import SystemdManager

    return SystemdManager(fs, unit=unit, slice_=slice_, name=name, extra=extra,
                          user=rootless)


def fs_manager(inner: str, **kw):
    """The cgroupfs driver for the unit's cgroup (absolute ``inner``) on this host."""
    from runtime.cgroups import mounts, paths

    h = mounts.hierarchies()
    if h.mode == "unified":
        from runtime.cgroups.v2.manager import V2Manager

        return V2Manager(paths.v2_path(h, inner), mount=h.unified.mountpoint, **kw)
    if h.mode == "none":
        raise CgroupError("no cgroup mount found in mountinfo")
    from runtime.cgroups.v1.manager import V1Manager

    return V1Manager(paths.v1_paths(h, inner), mode=h.mode,
                     unified_mount=h.unified.mountpoint if h.unified else "", **kw)


def from_state(fs, saved: dict):
    from runtime.cgroups.systemd.manager import SystemdManager

    return SystemdManager(fs, unit=saved["unit"], slice_=saved.get("slice", ""),
                          name=saved.get("name", ""), started=bool(saved.get("started", True)),
                          user=bool(saved.get("user")))
