"""config.mounts -> plan operations, with destinations resolved inside the rootfs.

Mirrors runc's mountToRootfs: bind mounts get their mountpoint created as a
directory or a file after the source, and flags other than bind are applied
by a remount; other filesystems are mounted with their flags and data.
"""

from __future__ import annotations

import os
import stat

from runtime.errors import ChildError, PyruncError
from runtime.native import lib
from runtime.native.plan import Plan
from runtime.process import mount_options

# Flags a bind remount can change; MS_REC and MS_BIND stay with the first mount.
_REMOUNT_MASK = ~(lib.MS_REC | lib.MS_REMOUNT | lib.MS_BIND)


def is_bind(m: dict) -> bool:
    opts = m.get("options") or []
    return m.get("type") == "bind" or "bind" in opts or "rbind" in opts


def bind_source(m: dict, bundle: str) -> str:
    src = m.get("source") or ""
    return src if os.path.isabs(src) else os.path.join(bundle, src)


# Files under /proc that may be bind-mounted over (lxcfs does), as runc allows.
_PROC_FILES = frozenset((
    "/proc/cpuinfo", "/proc/diskstats", "/proc/meminfo", "/proc/stat", "/proc/swaps",
    "/proc/uptime", "/proc/loadavg", "/proc/slabinfo", "/proc/net/dev",
    "/proc/sys/kernel/ns_last_pid",
))


def check_proc_destination(dest: str, fstype: str, bind: bool) -> None:
    """Nothing but procfs at /proc, and only lxcfs-style files under it (runc's
    checkProcMount): the runtime's own later writes there (sysctls, masking, LSM
    labels) must not land in files a bundle supplied (CVE-2019-19921 class)."""
    clean = os.path.normpath(dest)
    if clean != "/proc" and not clean.startswith("/proc/"):
        return
    if clean == "/proc" and fstype == "proc" and not bind:
        return
    if clean in _PROC_FILES:
        return
    raise PyruncError(f"{dest!r} cannot be mounted because it is inside /proc")


def check_ordinary_directory(rootfs: str, m: dict) -> None:
    """procfs and sysfs go on a directory, never through a symlink or onto a file (runc's
    mountToRootfs, its wording): a missing one is created."""
    fstype = m.get("type") or ""
    if fstype not in ("proc", "sysfs") or is_bind(m):
        return
    dest = os.path.normpath("/" + (m.get("destination") or "").lstrip("/"))
    try:
        st = os.lstat(rootfs + dest)
    except OSError:
        return
    if not stat.S_ISDIR(st.st_mode):
        import errno

        raise ChildError(f'error mounting "{fstype}" to rootfs at "{dest}": filesystem '
                         f'"{fstype}" must be mounted on ordinary directory', errno.ENOTDIR)


def delays_readonly(m: dict) -> bool:
    """A tmpfs or /dev is mounted read-write and made read-only once the rootfs is
    ready (finalize): /dev/pts and the devices are created in it first, as in runc."""
    dest = os.path.normpath("/" + (m.get("destination") or "").lstrip("/"))
    return not is_bind(m) and (m.get("type") == "tmpfs" or dest == "/dev")


def open_bind_sources(mount_list: list[dict], bundle: str, propagation: int,
                      fds: list[int]) -> list[dict]:
    """Clone each bind source into a detached tree while the runtime can still reach
    it: an init in a new user namespace may not be able to walk its path (a 0700
    parent; runc opens mount sources before it joins the user namespace too).  The
    init attaches the tree and gives it the rootfs's propagation (a clone of a
    shared mount would otherwise be the host's peer).  Returns the mounts, each bind
    one with "sourceTree" and "treePropagation"; the fds are in `fds`, for the
    caller to close."""
    out = []
    for m in mount_list:
        if is_bind(m) and not mount_options.wants_idmap(m):
            recursive = bool(mount_options.parse(m.get("options") or [])[0] & lib.MS_REC)
            fd = lib.pyrunc_open_tree(bind_source(m, bundle).encode(), int(recursive))
            if fd >= 0:     # else mounted by path: _add_bind reports a missing source
                fds.append(fd)
                m = {**m, "sourceTree": fd, "treePropagation": propagation}
        out.append(m)
    return out


def add_mount(plan: Plan, m: dict, bundle: str, cgroup_mount=None, idmap=None) -> None:
    """idmap: an idmap.IdmapTrees, for mounts asking for an idmapping."""
    dest = m.get("destination") or ""
    if not dest:
        raise PyruncError("mount destination is empty")
    if not os.path.isabs(dest):
        dest = "/" + dest  # runc treats a relative destination as relative to /
    flags, propagation, data = mount_options.parse(m.get("options") or [])
    fstype = m.get("type") or ""
    check_proc_destination(dest, fstype, is_bind(m))
    idmapped = idmap is not None and mount_options.wants_idmap(m)
    if idmapped and not is_bind(m):
        raise PyruncError(f"mount {dest}: idmapped mounts are supported for bind mounts only")
    if is_bind(m):
        _add_bind(plan, m, bundle, dest, flags, data, idmap if idmapped else None)
    elif fstype == "cgroup" and cgroup_mount is not None:
        cgroup_mount(plan, dest, flags)
    else:
        if not fstype:
            raise PyruncError(f"mount {dest}: no type given and not a bind mount")
        if delays_readonly(m):
            flags &= ~lib.MS_RDONLY
        plan.add(lib.OP_MKDIR_IN_ROOT, f"create mountpoint {dest}", s=(dest,), n=(0o755,))
        if fstype == "tmpfs" and mount_options.COPYUP in (m.get("options") or []):
            plan.add(lib.OP_TMPFS_COPYUP, f"mount tmpfs on {dest} with a copy of its content",
                     flags=flags, s=(m.get("source") or fstype, dest, fstype, data or None))
        else:
            plan.add(lib.OP_MOUNT_IN_ROOT, f"mount {fstype} on {dest}", flags=flags,
                     s=(m.get("source") or fstype, dest, fstype, data or None))
    for p in propagation:
        plan.add(lib.OP_MOUNT_IN_ROOT, f"set propagation of {dest}", flags=p,
                 s=(None, dest, None, None))
    attr_set, attr_clr = mount_options.recursive_attrs(m.get("options") or [])
    if attr_set or attr_clr:
        plan.add(lib.OP_MOUNT_SETATTR, f"set recursive mount attributes of {dest}",
                 s=(dest,), n=(attr_set, attr_clr))


def _add_bind(plan: Plan, m: dict, bundle: str, dest: str, flags: int, data: str,
              idmap=None) -> None:
    src = bind_source(m, bundle)
    try:
        st = os.stat(src)
    except OSError as e:
        raise PyruncError(f"mount {src} to {dest}: stat {src}: {e.strerror.lower()}") from None
    if stat.S_ISDIR(st.st_mode):
        plan.add(lib.OP_MKDIR_IN_ROOT, f"create mountpoint {dest}", s=(dest,), n=(0o755,))
    else:
        plan.add(lib.OP_MKFILE_IN_ROOT, f"create mountpoint {dest}", s=(dest,))
    if idmap is not None:
        tree = idmap.tree(m, src, dest, recursive=bool(flags & lib.MS_REC))
        plan.add(lib.OP_MOVE_MOUNT, f"attach the idmapped mount of {src} on {dest}", fd=tree,
                 s=(dest,))
    elif "sourceTree" in m:
        plan.add(lib.OP_MOVE_MOUNT, f"attach the bind mount of {src} on {dest}",
                 fd=m["sourceTree"], s=(dest,))
        plan.add(lib.OP_MOUNT_IN_ROOT, f"set propagation of {dest}", flags=m["treePropagation"],
                 s=(None, dest, None, None))
    else:
        first = lib.MS_BIND | (flags & lib.MS_REC)
        plan.add(lib.OP_MOUNT_IN_ROOT, f"bind mount {src} on {dest}", flags=first,
                 s=(src, dest, "bind", None))
    rest = flags & _REMOUNT_MASK
    if rest:
        plan.add(lib.OP_MOUNT_IN_ROOT, f"remount {dest}", flags=rest | lib.MS_BIND | lib.MS_REMOUNT,
                 s=(None, dest, None, data or None))
