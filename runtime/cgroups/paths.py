"""Where a container's cgroups live, following runc's cgroupfs driver.

``linux.cgroupsPath``:

* absolute ("/a/b"): taken below each hierarchy's mount point
  (``/sys/fs/cgroup/memory/a/b``, ``/sys/fs/cgroup/unified/a/b``, ...);
* relative ("a/b"): below the cgroup this process is in, per v1 hierarchy
  (``/sys/fs/cgroup/memory/<own cgroup>/a/b``); on a pure cgroup2 system below the
  *parent* of our own cgroup; in hybrid mode runc puts the cgroup2 side directly
  below the cgroup2 mount point, and so do we;
* empty or absent: the container ID used as a relative path.

Paths are cleaned the way runc does it, so ``..`` can never climb out of the
hierarchy ("../x" becomes "x", "/a/../../b" becomes "/b").
"""

from __future__ import annotations

import os.path

from runtime.cgroups import CgroupError
from runtime.cgroups.files import q

TYPE_CHECKING = False  # typing costs ~7 ms of imports
if TYPE_CHECKING:
    from runtime.cgroups.mounts import Hierarchies  # a type only: kill and delete skip mounts

# runc's order: Set() and Apply() walk the controllers in this order.
V1_SUBSYSTEMS = (
    "cpuset", "devices", "memory", "cpu", "cpuacct", "pids", "blkio", "hugetlb",
    "net_cls", "net_prio", "perf_event", "freezer", "rdma", "name=systemd",
)


def clean_path(path: str) -> str:
    """runc's utils.CleanPath: lexical clean; a relative path cannot escape upwards."""
    if not path:
        return ""
    path = os.path.normpath(path)
    if path.startswith("//"):
        path = "/" + path.lstrip("/")
    if not path.startswith("/"):
        path = os.path.relpath(os.path.normpath("/" + path), "/")
        if path == ".":
            return "."
    return path


def inner_path(container_id: str, cgroups_path: str | None) -> str:
    inner = clean_path(cgroups_path or "") or clean_path(container_id)
    if inner in ("", ".", "/"):
        raise CgroupError(f"invalid cgroups path {q(cgroups_path)} for container {q(container_id)}")
    return inner


def _join(*parts: str) -> str:
    out = parts[0]
    for p in parts[1:]:
        out = os.path.join(out, p.lstrip("/"))
    return os.path.normpath(out)


def v1_paths(h: Hierarchies, inner: str, own: dict[str, str] | None = None) -> dict[str, str]:
    """Per-controller directories for a v1 or hybrid layout ("" is the cgroup2 side)."""
    paths: dict[str, str] = {}
    # Without a v1 devices hierarchy, a hybrid host filters devices on cgroup2 (eBPF).
    need_devices = not (h.mode == "hybrid" and h.unified is not None)
    for sub in V1_SUBSYSTEMS:
        mount = h.v1.get(sub)
        if mount is None:
            if sub == "devices" and need_devices:
                raise CgroupError("mountpoint for devices not found")
            continue
        if inner.startswith("/"):
            paths[sub] = _join(mount.mountpoint, inner)
            continue
        own_cg = (own or {}).get(sub)
        if own_cg is None:
            if sub == "devices" and need_devices:
                raise CgroupError("cgroup for devices not found in /proc/self/cgroup")
            continue
        rel = os.path.relpath(own_cg, mount.root)
        paths[sub] = _join(mount.mountpoint, rel if rel != "." else "", inner)
    if h.mode == "hybrid" and h.unified is not None:
        paths[""] = _join(h.unified.mountpoint, inner)
    return paths


def v2_path(h: Hierarchies, inner: str, own: dict[str, str] | None = None) -> str:
    """The single directory for a unified (cgroup2-only) layout."""
    if h.unified is None:
        raise CgroupError("no cgroup2 mount found in mountinfo")
    if inner.startswith("/"):
        return _join(h.unified.mountpoint, inner)
    own_cg = (own or {}).get("")
    if own_cg is None:
        raise CgroupError("cgroup v2 path not found in /proc/self/cgroup")
    return _join(h.unified.mountpoint, os.path.dirname(own_cg), inner)
