"""The mounts criu must be told about, as runc describes them.

criu dumps a container's mount namespace itself, except mounts whose source it
cannot reach from there: bind mounts from the host, the files a masked path
covers (a bind of /dev/null) and the cgroup directories bound into the
container.  Those are "external": at dump time each gets a name in the image
(ext_mnt key = mountpoint, value = name), and at restore the name is mapped to
a host path again (key = name, value = source).  pyrunc's "cgroup" mounts are
always binds of the container's own cgroup directories (process/cgroup_mount.py),
so they are external with or without a cgroup namespace.
"""

from __future__ import annotations

import os
import stat

from runtime.errors import PyruncError
from runtime.process.mounts import bind_source, is_bind


def _dest(m: dict) -> str:
    return os.path.normpath("/" + (m.get("destination") or "").lstrip("/"))


def cgroup_binds(dest: str, cgroup_state: dict) -> list[tuple[str, str]]:
    """(mountpoint, host cgroup directory) of the binds a "cgroup" mount at `dest`
    makes, as process/cgroup_mount.py makes them."""
    if cgroup_state.get("mode") == "unified":
        return [(dest, cgroup_state.get("path") or "")]
    from runtime.cgroups.mounts import hierarchies

    paths = cgroup_state.get("paths") or {}
    h = hierarchies()
    out: list[tuple[str, str]] = []
    seen: set[str] = set()
    for controller, mount in sorted(h.v1.items()):
        if mount.mountpoint in seen or controller not in paths:
            continue
        seen.add(mount.mountpoint)
        out.append((f"{dest}/{os.path.basename(mount.mountpoint)}", paths[controller]))
    if paths.get("") and h.unified is not None:
        out.append((f"{dest}/{os.path.basename(h.unified.mountpoint)}", paths[""]))
    return out


def _device_paths(config: dict) -> list[str]:
    from runtime.process.devices import device_list

    try:
        return [d["path"] for d in device_list(config) if d.get("path")]
    except Exception:  # noqa: BLE001 - create validated them; a bad one is no mount
        return []


def dump_external(config: dict, cgroup_state: dict, pid: int) -> list[tuple[str, str]]:
    """ext_mnt (mountpoint, name in the image) for a dump of the container whose
    init is `pid`."""
    out: list[tuple[str, str]] = []
    for m in config.get("mounts") or []:
        if is_bind(m):
            out.append((_dest(m), _dest(m)))
        elif m.get("type") == "cgroup":
            out.extend((d, d) for d, _ in cgroup_binds(_dest(m), cgroup_state))
    for path in (config.get("linux") or {}).get("maskedPaths") or []:
        # A masked directory is a read-only tmpfs, which criu dumps; a masked
        # file is /dev/null bound over it.
        try:
            st = os.stat(f"/proc/{pid}/root/{path.lstrip('/')}")
        except OSError:
            continue
        if not stat.S_ISDIR(st.st_mode):
            out.append((os.path.normpath(path), "/dev/null"))
    out.extend((p, p) for p in _device_paths(config))
    return out


def restore_external(config: dict, cgroup_state: dict, bundle: str) -> list[tuple[str, str]]:
    """ext_mnt (name in the image, host source) for a restore into a new container."""
    out: list[tuple[str, str]] = []
    for m in config.get("mounts") or []:
        if is_bind(m):
            out.append((_dest(m), bind_source(m, bundle)))
        elif m.get("type") == "cgroup":
            out.extend(cgroup_binds(_dest(m), cgroup_state))
    if (config.get("linux") or {}).get("maskedPaths"):
        out.append(("/dev/null", "/dev/null"))
    out.extend((p, p) for p in _device_paths(config))
    return out


def _under_tmpfs(dest: str, mounts: list) -> bool:
    return any(m.get("type") == "tmpfs" and dest.startswith(_dest(m).rstrip("/") + "/")
               for m in mounts)


def make_mountpoints(rootfs: str, config: dict, bundle: str) -> None:
    """runc's prepareCriuRestoreMounts, its first half: the mountpoints of bind
    mounts and other filesystems exist in the rootfs before criu mounts on them
    (a fresh copy of a bundle lacks those the first create made).  Not under a
    tmpfs (criu restores its content) nor for cgroups (criu restores the tmpfs
    they sit in).  Each path is walked without following symlinks."""
    mounts = config.get("mounts") or []
    for m in mounts:
        if m.get("type") == "cgroup" or _under_tmpfs(_dest(m), mounts):
            continue
        dest = _dest(m)
        as_file = False
        if is_bind(m):
            source = bind_source(m, bundle)
            if not os.path.exists(source):
                # runc fails here too (it binds the sources before criu runs)
                raise PyruncError(f"bind mount source {source} for {dest}: no such file or "
                                  "directory")
            as_file = not os.path.isdir(source)
        _make_in_root(rootfs, dest, as_file)


def _make_in_root(rootfs: str, dest: str, as_file: bool) -> None:
    parts = [p for p in dest.split("/") if p]
    if not parts:
        return
    fd = os.open(rootfs, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        for i, name in enumerate(parts):
            last = i == len(parts) - 1
            try:
                nxt = os.open(name, os.O_PATH | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=fd)
            except FileNotFoundError:
                try:
                    if last and as_file:
                        os.close(os.open(name, os.O_CREAT | os.O_WRONLY | os.O_NOFOLLOW
                                         | os.O_CLOEXEC, 0o755, dir_fd=fd))
                    else:
                        os.mkdir(name, 0o755, dir_fd=fd)
                    nxt = os.open(name, os.O_PATH | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=fd)
                except OSError:
                    return  # a symlink or a read-only rootfs: criu reports what it misses
            except OSError:
                return
            os.close(fd)
            fd = nxt
            if not last and not stat.S_ISDIR(os.fstat(fd).st_mode):
                return  # a symlink or a file on the way: leave it to criu
    finally:
        os.close(fd)
