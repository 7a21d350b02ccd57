"""/dev: default devices, linux.devices and the standard symlinks (runc's set)."""

from __future__ import annotations

import os
import stat

from runtime.errors import PyruncError
from runtime.native import lib
from runtime.native.plan import Plan

# Created in every container whose /dev is not bind-mounted from the host.
DEFAULT_DEVICES = (
    ("/dev/null", 1, 3),
    ("/dev/zero", 1, 5),
    ("/dev/full", 1, 7),
    ("/dev/random", 1, 8),
    ("/dev/urandom", 1, 9),
    ("/dev/tty", 5, 0),
)

_TYPES = {"c": stat.S_IFCHR, "u": stat.S_IFCHR, "b": stat.S_IFBLK, "p": stat.S_IFIFO}
_MAX_NUMBER = (1 << 31) - 1  # as cgroups/v2/devicefilter.py


def device_list(config: dict) -> list[dict]:
    """Default devices plus linux.devices (a configured path replaces a default)."""
    configured = config.get("linux", {}).get("devices") or []
    paths = {d.get("path") for d in configured}
    out = [{"path": p, "type": "c", "major": ma, "minor": mi, "fileMode": 0o666, "uid": 0, "gid": 0}
           for p, ma, mi in DEFAULT_DEVICES if p not in paths]
    for d in configured:
        if d.get("type") not in _TYPES:
            raise PyruncError(f"device {d.get('path')}: unknown device type {d.get('type')!r}")
        for field in ("major", "minor"):
            # What mknod's dev_t (and os.makedev) can carry; the schema allows any int64.
            if not 0 <= d.get(field, 0) <= _MAX_NUMBER:
                raise PyruncError(f"device {d.get('path')}: {field} {d[field]} is out of range "
                                  f"(0 to {_MAX_NUMBER})")
        out.append(d)
    return out


def add_devices(plan: Plan, config: dict, userns: bool) -> None:
    for d in device_list(config):
        path = d["path"]
        parent = os.path.dirname(path)
        if parent not in ("/", "/dev"):
            plan.add(lib.OP_MKDIR_IN_ROOT, f"create {parent}", s=(parent,), n=(0o755,))
        if userns:
            # mknod is refused in a user namespace: bind the host's node, like runc.
            plan.add(lib.OP_BIND_DEV_IN_ROOT, f"bind device {path}", s=(path, path))
            continue
        kind = _TYPES[d["type"]]
        mode = kind | (d.get("fileMode", 0o666) & 0o7777)
        dev = os.makedev(d.get("major", 0), d.get("minor", 0)) if kind != stat.S_IFIFO else 0
        plan.add(lib.OP_MKNOD_IN_ROOT, f"create device {path}", s=(path,),
                 n=(mode, dev, d.get("uid", 0), d.get("gid", 0)))


def add_symlinks(plan: Plan) -> None:
    links = [("/proc/self/fd", "/dev/fd"), ("/proc/self/fd/0", "/dev/stdin"),
             ("/proc/self/fd/1", "/dev/stdout"), ("/proc/self/fd/2", "/dev/stderr")]
    if os.path.exists("/proc/kcore"):
        links.append(("/proc/kcore", "/dev/core"))
    for target, link in links:
        plan.add(lib.OP_SYMLINK_IN_ROOT, f"symlink {link}", s=(target, link))
    # /dev/ptmx points into the container's own devpts instance.
    plan.add(lib.OP_SYMLINK_IN_ROOT, "symlink /dev/ptmx", s=("pts/ptmx", "/dev/ptmx"))
