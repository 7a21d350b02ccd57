"""Global options shared by every command."""

from __future__ import annotations

DEFAULT_ROOT = "/run/pyrunc"


class Context:
    __slots__ = ("root", "log_path", "log_format", "debug", "systemd_cgroup", "rootless", "criu")

    def __init__(self, opts: dict) -> None:
        self.root: str = opts["root"] or DEFAULT_ROOT
        self.log_path: str = opts["log"]
        self.log_format: str = opts["log_format"] or "text"
        self.debug: bool = opts["debug"]
        self.systemd_cgroup: bool = opts["systemd_cgroup"]
        self.rootless: str = opts["rootless"] or "auto"
        self.criu: str = opts["criu"] or "criu"
