"""Global options shared by every command."""

from __future__ import annotations

import os

DEFAULT_ROOT = "/run/pyrunc"


class Context:
    __slots__ = ("root", "log_path", "log_format", "debug", "systemd_cgroup", "rootless", "criu",
                 "_rootless_cgroups")

    def __init__(self, opts: dict) -> None:
        root = opts["root"]
        if not root:
            root = DEFAULT_ROOT
            if os.environ.get("XDG_RUNTIME_DIR"):  # runc's $XDG_RUNTIME_DIR/runc
                from runtime import rootless

                xdg = rootless.xdg_root()
                if xdg is not None:
                    rootless.prepare_xdg_root(xdg)
                    root = xdg
        self.root: str = root
        self.log_path: str = opts["log"]
        self.log_format: str = opts["log_format"] or "text"
        self.debug: bool = opts["debug"]
        self.systemd_cgroup: bool = opts["systemd_cgroup"]
        self.rootless: str = opts["rootless"] or "auto"
        self.criu: str = opts["criu"] or "criu"
        self._rootless_cgroups: bool | None = None

    @property
    def rootless_cgroups(self) -> bool:
        """--rootless, "auto" resolved as runc does (runtime/rootless.py)."""
        if self._rootless_cgroups is None:
            from runtime import rootless

            self._rootless_cgroups = rootless.rootless_cgroups(self.rootless, self.systemd_cgroup)
        return self._rootless_cgroups
