"""linux.namespaces: which namespaces are created, which are joined by path."""

from __future__ import annotations

import os

from runtime.errors import PyruncError
from runtime.native import lib

# spec name -> (CLONE_NEW* flag, /proc/<pid>/ns/<name>)
KINDS = {
    "pid": (lib.CLONE_NEWPID, "pid"),
    "network": (lib.CLONE_NEWNET, "net"),
    "mount": (lib.CLONE_NEWNS, "mnt"),
    "ipc": (lib.CLONE_NEWIPC, "ipc"),
    "uts": (lib.CLONE_NEWUTS, "uts"),
    "user": (lib.CLONE_NEWUSER, "user"),
    "cgroup": (lib.CLONE_NEWCGROUP, "cgroup"),
    "time": (lib.CLONE_NEWTIME, "time"),
}

# Joining order: the user namespace first, it grants the rights for the others.
JOIN_ORDER = ("user", "ipc", "uts", "network", "pid", "cgroup", "time", "mount")


class Namespaces:
    def __init__(self, config: dict) -> None:
        self.new: set[str] = set()
        self.joined: dict[str, str] = {}
        for ns in config.get("linux", {}).get("namespaces") or []:
            kind = ns.get("type")
            if kind not in KINDS:
                raise PyruncError(f"unknown namespace type {kind!r}")
            if kind in self.new or kind in self.joined:
                raise PyruncError(f"duplicate namespace type {kind!r}")
            path = ns.get("path") or ""
            if path:
                self.joined[kind] = path
            else:
                self.new.add(kind)

    def has(self, kind: str) -> bool:
        return kind in self.new or kind in self.joined

    @property
    def clone_flags(self) -> int:
        flags = 0
        for kind in self.new:
            flags |= KINDS[kind][0]
        return flags

    def open_joined(self) -> list[tuple[str, int, str]]:
        """Open every namespace to join, in joining order: [(kind, fd, path)]."""
        out: list[tuple[str, int, str]] = []
        try:
            for kind in JOIN_ORDER:
                path = self.joined.get(kind)
                if path is None:
                    continue
                try:
                    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
                except OSError as e:
                    raise PyruncError(
                        f"open namespace {kind} path {path}: {e.strerror.lower()}") from None
                out.append((kind, fd, path))
        except BaseException:
            for _, fd, _ in out:
                os.close(fd)
            raise
        return out
