"""process.user and the environment the container process starts with."""

from __future__ import annotations

import os

from runtime.errors import PyruncError


def home_for(rootfs: str, uid: int) -> str:
    """HOME from the container's /etc/passwd, "/" when absent (as runc)."""
    try:
        fd = os.open(os.path.join(rootfs, "etc/passwd"), os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError:
        return "/"
    try:
        data = os.read(fd, 1 << 20).decode(errors="replace")
    finally:
        os.close(fd)
    for line in data.splitlines():
        fields = line.split(":")
        if len(fields) >= 6 and fields[2] == str(uid):
            return fields[5] or "/"
    return "/"


def environment(process: dict, rootfs: str) -> list[str]:
    """process.env as runc's prepareEnv makes it: NAME=VALUE checked, duplicates
    dropped (the last one wins, in its place), HOME added when unset or empty."""
    out: list[str] = []
    seen: set[str] = set()
    home_set = False
    for kv in reversed(process.get("env") or []):
        name, sep, value = kv.partition("=")
        if not sep:
            raise PyruncError("invalid environment variable: missing '='")
        if not name:
            raise PyruncError("invalid environment variable: name cannot be empty")
        if name in seen:
            continue
        seen.add(name)
        if "\0" in kv:
            raise PyruncError(f'invalid environment variable "{name}": contains nul byte (\\x00)')
        if name == "HOME":
            if not value:
                continue  # replaced below, as runc does
            home_set = True
        out.append(kv)
    out.reverse()
    if not home_set:
        out.append("HOME=" + home_for(rootfs, ids(process)[0]))
    return out


def ids(process: dict) -> tuple[int, int, list[int]]:
    """(uid, gid, additional gids) of process.user."""
    user = process.get("user") or {}
    groups = [int(g) for g in user.get("additionalGids") or []]
    return int(user.get("uid", 0)), int(user.get("gid", 0)), groups


def gids_bytes(groups: list[int]) -> bytes:
    """The gid_t[] setgroups(2) takes, in native byte order (no array module: it
    imports collections, ~1.4 ms on every create)."""
    import sys

    return b"".join(g.to_bytes(4, sys.byteorder) for g in groups)
