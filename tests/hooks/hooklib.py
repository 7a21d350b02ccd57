"""Recording hooks for the hook tests: busybox shell scripts that save what they saw.

Every hook is `/bin/busybox sh -c RECORD hook <label> <dir> <exit code>`.  RECORD
keeps the state read on stdin, its namespaces, cwd and environment, the mount
table and command line of the pid named in the state (when it can see it), then
appends its label to <dir>/order, so the order file is the time order.
Runtime-namespace and createContainer hooks write to the host directory;
startContainer hooks run inside the container and write to /hooklog, the same
directory bind-mounted there.
"""

from __future__ import annotations

import json
import os

BUSYBOX = "/bin/busybox"
IN_CONTAINER = "/hooklog"

RECORD = r"""
B=/bin/busybox; l="$1"; d="$2"
$B cat > "$d/$l.state"
for n in mnt pid net uts ipc; do echo "$n $($B readlink /proc/self/ns/$n)"; done > "$d/$l.ns"
$B pwd > "$d/$l.cwd"
$B env > "$d/$l.env"
$B cat /proc/self/cgroup > "$d/$l.cgroup"
$B cat /proc/1/cgroup > "$d/$l.cgroup-of-1"
pid=$($B sed -n 's/.*"pid": *\([0-9][0-9]*\).*/\1/p' "$d/$l.state")
if [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ]; then
    $B tr '\0' ' ' < "/proc/$pid/cmdline" > "$d/$l.cmdline"
    $B cat "/proc/$pid/mountinfo" > "$d/$l.mountinfo"
fi
[ -e "$d/program-ran" ] && echo yes > "$d/$l.program-ran"
echo "$l" >> "$d/order"
exit "${3:-0}"
"""


class Recorder:
    """A host directory that hooks of one bundle record into."""

    def __init__(self, bundle) -> None:
        self.bundle = bundle
        self.dir = os.path.join(bundle.path, "hooklog")
        os.makedirs(self.dir, exist_ok=True)
        bundle.config.setdefault("mounts", []).append(
            {"destination": IN_CONTAINER, "type": "bind", "source": self.dir,
             "options": ["rbind", "rw"]})
        bundle.config["hooks"] = {}
        bundle.save()

    def hook(self, kind: str, label: str | None = None, code: int = 0, **extra) -> dict:
        d = IN_CONTAINER if kind == "startContainer" else self.dir
        return {"path": BUSYBOX, "args": ["sh", "-c", RECORD, "hook", label or kind, d, str(code)],
                **extra}

    def add(self, kind: str, label: str | None = None, code: int = 0, **extra) -> Recorder:
        self.bundle.config["hooks"].setdefault(kind, []).append(
            self.hook(kind, label, code, **extra))
        self.bundle.save()
        return self

    def add_raw(self, kind: str, entry: dict) -> Recorder:
        self.bundle.config["hooks"].setdefault(kind, []).append(entry)
        self.bundle.save()
        return self

    def order(self) -> list[str]:
        try:
            with open(os.path.join(self.dir, "order")) as f:
                return f.read().split()
        except FileNotFoundError:
            return []

    def text(self, label: str, what: str) -> str:
        try:
            with open(os.path.join(self.dir, f"{label}.{what}")) as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def state(self, label: str) -> dict:
        return json.loads(self.text(label, "state"))

    def ns(self, label: str) -> dict[str, str]:
        return dict(line.split(" ", 1) for line in self.text(label, "ns").splitlines())

    def env(self, label: str) -> list[str]:
        return self.text(label, "env").splitlines()


def ns_of(pid: int | str) -> dict[str, str]:
    return {n: os.readlink(f"/proc/{pid}/ns/{n}") for n in ("mnt", "pid", "net", "uts", "ipc")}


def pids_with(token: str) -> list[int]:
    """Processes whose command line contains token (to find what a hook left)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                if token.encode() in f.read():
                    found.append(int(entry))
        except OSError:
            pass
    return found
