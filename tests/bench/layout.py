"""Where the bench's containers' cgroups are: by the host's cgroup layout (v1 or
hybrid, or cgroup2 alone at /sys/fs/cgroup) and by the driver the runtimes are
given (cgroupfs: a directory under the bench's parent; systemd: a scope in the
bench's own slice, `--systemd-cgroup` on every call)."""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass

from tests.bench.host import cgroup_dirs

CGROUP_ROOT = "/sys/fs/cgroup"
SLICE = "pyruncbench.slice"  # no dash: systemd would nest it in pyruncbench's parent slices


def unified_host() -> bool:
    """cgroup2 alone at /sys/fs/cgroup (Debian 12, systemd's default since 247)."""
    with open("/proc/self/mountinfo") as f:
        for line in f:
            fields = line.split()
            if fields[4] == CGROUP_ROOT:
                return fields[fields.index("-") + 1] == "cgroup2"
    return False


def systemd_running() -> bool:
    return os.path.isdir("/run/systemd/system")


@dataclass(frozen=True)
class Layout:
    unified: bool
    driver: str   # "cgroupfs" or "systemd"
    parent: str   # cgroupfs: the bench's cgroup parent; systemd: SLICE

    @classmethod
    def detect(cls, driver: str, cgroup_parent: str) -> Layout:
        if driver == "systemd" and not systemd_running():
            raise OSError("--cgroup-driver systemd: systemd is not running on this host")
        return cls(unified_host(), driver, SLICE if driver == "systemd" else cgroup_parent)

    def global_args(self) -> tuple[str, ...]:
        return ("--systemd-cgroup",) if self.driver == "systemd" else ()

    def cgroups_path(self, runtime: str, cid: str) -> str:
        """linux.cgroupsPath; systemd's is slice:prefix:name, the unit prefix-name.scope."""
        if self.driver == "systemd":
            return f"{self.parent}:{runtime}:{cid}"
        return f"{self.parent}/{runtime}-{cid}"

    def top(self, controller: str) -> str:
        """The bench's parent in one hierarchy (v2: the controller is ignored)."""
        rel = self.parent if self.driver == "cgroupfs" else f"/{self.parent}"
        return CGROUP_ROOT + ("" if self.unified else f"/{controller}") + rel

    def directory(self, runtime: str, cid: str, controller: str) -> str:
        leaf = f"{runtime}-{cid}" + (".scope" if self.driver == "systemd" else "")
        return f"{self.top(controller)}/{leaf}"

    # The memory files by version: usage, limit, peak, and where oom_kill is counted.
    def memory_file(self, what: str) -> str:
        v1 = {"usage": "memory.usage_in_bytes", "limit": "memory.limit_in_bytes",
              "peak": "memory.max_usage_in_bytes", "events": "memory.oom_control"}
        v2 = {"usage": "memory.current", "limit": "memory.max", "peak": "memory.peak",
              "events": "memory.events"}
        return (v2 if self.unified else v1)[what]

    def leftovers(self) -> list[str]:
        """Cgroups of the bench still there, in every hierarchy (systemd: what is left
        in its slice; the slice itself is systemd's, stopped by clean())."""
        top = f"/{self.parent}" if self.driver == "systemd" else self.parent
        dirs = cgroup_dirs(top)
        if self.driver == "systemd":
            dirs = [d for d in dirs if os.path.basename(d) != self.parent]
        return dirs

    def clean(self) -> list[str]:
        """After the runtimes' own deletes: remove the parent (cgroupfs) or stop the
        slice (systemd); returns the cgroups the runtimes had left."""
        if self.driver == "systemd":
            left = self.leftovers()
            subprocess.run(["systemctl", "stop", self.parent], capture_output=True)
            return left
        for d in self.leftovers():
            try:
                os.rmdir(d)
            except OSError:
                pass
        return self.leftovers()
