"""process.user and the environment the container process starts with."""

from __future__ import annotations

import os


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
    env = list(process.get("env") or [])
    if not any(e.startswith("HOME=") for e in env):
        env.append("HOME=" + home_for(rootfs, int(process.get("user", {}).get("uid", 0))))
    return env
