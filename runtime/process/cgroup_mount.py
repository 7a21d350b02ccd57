"""A "cgroup" mount in config.mounts: the container sees its own cgroups.

As runc does without a cgroup namespace on v1: a tmpfs at the destination and,
in it, one bind mount per hierarchy of the container's own cgroup directory
(plus the unified one on hybrid hosts).  On a cgroup2-only host: one bind of
the container's cgroup2 directory.
"""

from __future__ import annotations

import os

from runtime.native import lib
from runtime.native.plan import Plan

_KEEP = lib.MS_NOSUID | lib.MS_NODEV | lib.MS_NOEXEC | lib.MS_RDONLY


def make_handler(cgroup_state: dict):
    paths: dict[str, str] = dict(cgroup_state.get("paths") or {})
    unified_path = cgroup_state.get("path") if cgroup_state.get("mode") == "unified" else None

    def add(plan: Plan, dest: str, flags: int) -> None:
        keep = flags & _KEEP
        if unified_path and not os.path.isdir(unified_path):
            # Rootless without a cgroup of its own (runc: ENOENT): the destination is
            # masked read-only, as runc's maskPath does.
            plan.add(lib.OP_MKDIR_IN_ROOT, f"create mountpoint {dest}", s=(dest,), n=(0o755,))
            plan.add(lib.OP_MOUNT_IN_ROOT, f"mask {dest} (no cgroup)",
                     flags=keep | lib.MS_RDONLY, s=("tmpfs", dest, "tmpfs", None))
            return
        if unified_path:
            _bind(plan, unified_path, dest, keep)
            return
        from runtime.cgroups.mounts import hierarchies

        h = hierarchies()
        plan.add(lib.OP_MKDIR_IN_ROOT, f"create mountpoint {dest}", s=(dest,), n=(0o755,))
        plan.add(lib.OP_MOUNT_IN_ROOT, f"mount tmpfs for cgroups on {dest}",
                 flags=keep & ~lib.MS_RDONLY, s=("tmpfs", dest, "tmpfs", "mode=755"))
        seen: set[str] = set()
        for controller, mount in sorted(h.v1.items()):
            if mount.mountpoint in seen or controller not in paths:
                continue
            seen.add(mount.mountpoint)
            _bind(plan, paths[controller], f"{dest}/{os.path.basename(mount.mountpoint)}", keep)
        if paths.get("") and h.unified is not None:
            _bind(plan, paths[""], f"{dest}/{os.path.basename(h.unified.mountpoint)}", keep)
        if keep & lib.MS_RDONLY:
            plan.add(lib.OP_MOUNT_IN_ROOT, f"remount {dest} read-only",
                     flags=keep | lib.MS_REMOUNT, s=(None, dest, None, "mode=755"))

    return add


def _bind(plan: Plan, source: str, dest: str, flags: int) -> None:
    plan.add(lib.OP_MKDIR_IN_ROOT, f"create mountpoint {dest}", s=(dest,), n=(0o755,))
    plan.add(lib.OP_MOUNT_IN_ROOT, f"bind mount cgroup {source} on {dest}",
             flags=lib.MS_BIND | lib.MS_REC, s=(source, dest, "bind", None))
    if flags:
        plan.add(lib.OP_MOUNT_IN_ROOT, f"remount {dest}",
                 flags=flags | lib.MS_BIND | lib.MS_REMOUNT, s=(None, dest, None, None))
