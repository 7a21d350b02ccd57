"""What every client test shares: the runtime under test, a command runner, host facts."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Sequence

import pytest

from tests.e2e.cgroups import cgroup_file, kill_cgroup_processes
from tests.support.runtime import binary, is_pyrunc

__all__ = ["binary", "is_pyrunc", "run", "need", "wait_for", "cgroup_file", "free_port",
           "checked", "remove_tree", "default_root", "attempt",
           "kill_cgroup_processes", "skip_if_cgroup_metrics_impossible", "SLOW"]

# Under qemu's TCG (the guest, tests/guest) every fork and exec is ~10x slower:
# the clients' and the tests' own time limits grow by this factor there.
SLOW = float(os.environ.get("PYRUNC_E2E_TIME_SCALE") or
             (5 if os.environ.get("PYRUNC_IN_GUEST") == "1" else 1))


def run(cmd: Sequence[str], *, input: str | None = None, timeout: float = 90,
        env: dict[str, str] | None = None, cwd: str | None = None) -> subprocess.CompletedProcess:
    """Run a client command; output goes through files, not pipes, because a
    daemonized helper (conmon, a shim) may keep an inherited pipe open."""
    full_env = dict(os.environ, **(env or {}))
    timeout *= SLOW
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        r = subprocess.run(list(cmd), stdout=out, stderr=err, timeout=timeout, env=full_env,
                           cwd=cwd, input=input.encode() if input is not None else None,
                           stdin=None if input is not None else subprocess.DEVNULL)
        out.seek(0)
        err.seek(0)
        return subprocess.CompletedProcess(list(cmd), r.returncode,
                                           out.read().decode(errors="replace"),
                                           err.read().decode(errors="replace"))


def attempt(cmd: Sequence[str], *, timeout: float = 30,
            env: dict[str, str] | None = None) -> subprocess.CompletedProcess | None:
    """A clean-up command: best effort, and bounded, because a client may hang
    on a container whose runtime call never returned."""
    try:
        return run(cmd, timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        return None


def checked(p: subprocess.CompletedProcess) -> subprocess.CompletedProcess:
    """Fail the test with the client's own words when a command failed."""
    if p.returncode != 0:
        pytest.fail(f"`{' '.join(p.args)}` exited {p.returncode}\nstdout: {p.stdout.strip()}\n"
                    f"stderr: {p.stderr.strip()}", pytrace=False)
    return p


def need(*binaries: str) -> None:
    missing = [b for b in binaries if not (shutil.which(b) or os.access(b, os.X_OK))]
    if missing:
        pytest.skip(f"{', '.join(missing)} not installed (run tests/e2e/setup.sh)")


def wait_for(pred: Callable[[], object], timeout: float, what: str, step: float = 0.1):
    timeout *= SLOW
    deadline = time.monotonic() + timeout
    while True:
        value = pred()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(step)


def default_root() -> str:
    """The runtime's own default --root, from its --help (runc's is /run/runc,
    pyrunc's /run/pyrunc); a logging wrapper in front of it gives the same answer."""
    help_text = run([binary(), "--help"]).stdout
    m = re.search(r'--root value.*\(default: "?([^")]+)"?\)', help_text)
    return m.group(1) if m else f"/run/{os.path.basename(binary())}"


def unmounted_cgroup_hierarchies() -> list[str]:
    """v1 hierarchies that processes are in but that are mounted nowhere here:
    one lingers when a test mounts a controller as v1 elsewhere and leaves
    cgroups in it. containerd's cgroup loader then fails for every container
    ("cannot find cgroup mount destination"), so its metrics are empty."""
    with open("/proc/self/mountinfo") as f:
        mounted = set()
        for line in f:
            fields = line.split()
            sep = fields.index("-")
            if fields[sep + 1] == "cgroup":
                mounted.update(fields[sep + 3].split(","))
    orphans = []
    with open("/proc/self/cgroup") as f:
        for line in f:
            hid, controllers, _ = line.rstrip("\n").split(":", 2)
            if hid != "0" and not any(c in mounted for c in controllers.split(",")):
                orphans.append(controllers)
    return orphans


def skip_if_cgroup_metrics_impossible() -> None:
    orphans = unmounted_cgroup_hierarchies()
    if orphans:
        pytest.skip(f"cgroup v1 hierarchy {', '.join(orphans)} exists but is mounted nowhere "
                    "(left by another test): containerd cannot read any container's cgroup")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def remove_tree(path: str) -> None:
    """rm -rf that first unmounts whatever a daemon left mounted below `path`."""
    with open("/proc/self/mountinfo") as f:
        mounts = [line.split()[4] for line in f]
    for m in sorted((m for m in mounts if m.startswith(path.rstrip("/") + "/")),
                    key=len, reverse=True):
        subprocess.run(["umount", "-l", m], capture_output=True)
    shutil.rmtree(path, ignore_errors=True)
