"""Which cgroup driver the clients are configured with, where their containers'
cgroups go, and how to read a container's cgroup files on v1 or v2.

PYRUNC_E2E_CGROUP_DRIVER=cgroupfs|systemd chooses the driver; unset, it is
systemd where PID 1 is systemd (what Docker, containerd under Kubernetes and
podman use there by default) and cgroupfs elsewhere.  With cgroupfs the
suite's containers live below the session's cgroup directory; with systemd
below a slice of the session's, `pyrunc_e2e_<pid>.slice`, each client in a
child slice (`pyrunc_e2e_<pid>-docker.slice`), and Kubernetes pods in
`kubepods-burstable-pod<uid>.slice` as the kubelet names them."""

from __future__ import annotations

import os
import signal
import subprocess
import time

from runtime.cgroups.systemd.unit import expand_slice

ROOT = "/sys/fs/cgroup"
V2 = os.path.exists(f"{ROOT}/cgroup.controllers")
DRIVERS = ("cgroupfs", "systemd")


def systemd_is_init() -> bool:
    return os.path.isdir("/run/systemd/system")


def driver() -> str:
    chosen = os.environ.get("PYRUNC_E2E_CGROUP_DRIVER", "")
    if not chosen:
        return "systemd" if systemd_is_init() else "cgroupfs"
    if chosen not in DRIVERS:
        raise SystemExit(f"PYRUNC_E2E_CGROUP_DRIVER={chosen!r}: one of {', '.join(DRIVERS)}")
    return chosen


def systemctl(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(["systemctl", *args], capture_output=True, text=True, timeout=timeout)


def our_units(pattern: str = "*.scope") -> set[str]:
    """Units of every state systemd knows that match `pattern`."""
    p = systemctl("list-units", "--all", "--plain", "--no-legend", pattern)
    return {line.split()[0] for line in p.stdout.splitlines() if line.strip()}


class Layout:
    """The session's cgroup parents for one driver."""

    def __init__(self, driver_name: str, cgroupfs_parent: str) -> None:
        self.driver = driver_name
        self.systemd = driver_name == "systemd"
        if self.systemd:
            self.top = f"pyrunc_e2e_{os.getpid()}.slice"
        else:
            self.top = cgroupfs_parent  # "/pyrunc-test-<pid>", removed by tests/conftest.py

    def parent(self, client: str) -> str:
        """The cgroup parent a client is configured with (a slice with systemd)."""
        if self.systemd:
            return f"{self.top[:-len('.slice')]}-{client}.slice"
        return f"{self.top}/{client}"

    def parent_dir(self, client: str) -> str:
        """That parent as a cgroup path ("/a.slice/a-b.slice" for a slice)."""
        p = self.parent(client)
        return expand_slice(p) if self.systemd else p

    def ctr_cgroups_path(self, cid: str) -> str:
        """`ctr run --cgroup`: "slice:prefix:name" with systemd, a path otherwise."""
        if self.systemd:
            return f"{self.parent('ctr')}:ctr:{cid}"
        return f"{self.parent('ctr')}/{cid}"

    def pod_parent(self, uid: str) -> str:
        """A pod's cgroup parent as the kubelet passes it in the sandbox config."""
        if self.systemd:
            return f"kubepods-burstable-pod{uid}.slice"
        return f"{self.top}/k8s/pod{uid}"

    def cleanup(self) -> None:
        """Kill what stuck clients left in the suite's cgroups; with systemd stop
        the session's slice (and so every scope and slice below it)."""
        if self.systemd:
            systemctl("stop", self.top)
            systemctl("reset-failed", self.top)
            deadline = time.monotonic() + 30
            while (left := our_units(self.top[:-len(".slice")] + "*")) and \
                    time.monotonic() < deadline:
                time.sleep(0.5)  # systemd unloads a stopped unit soon after
            if left:
                raise AssertionError(f"units left after the session: {sorted(left)}")
        else:
            kill_cgroup_processes(self.top)


def proc_cgroup(pid: int | str, controller: str) -> str:
    """The cgroup path of `pid` for `controller` (the unified one on v2)."""
    with open(f"/proc/{pid}/cgroup") as f:
        for line in f:
            hid, controllers, path = line.rstrip("\n").split(":", 2)
            if V2 and hid == "0" or controller in controllers.split(","):
                return path
    raise AssertionError(f"pid {pid} is in no {controller} cgroup")


def cgroup_dir(pid: int | str, controller: str) -> str:
    path = proc_cgroup(pid, controller)
    return f"{ROOT}{path}" if V2 else f"{ROOT}/{controller}{path}"


def _v2_cpu_max(field: int):
    def get(text: str) -> str:
        value = text.split()[field]
        return "-1" if value == "max" else value
    return get


# v1 file -> (its v2 counterpart, how to turn the v2 content into the v1 value)
V2_EQUIVALENT = {
    "memory.limit_in_bytes": ("memory.max", lambda t: t),
    "cpu.cfs_quota_us": ("cpu.max", _v2_cpu_max(0)),
    "cpu.cfs_period_us": ("cpu.max", _v2_cpu_max(1)),
    "freezer.state": ("cgroup.events",
                      lambda t: "FROZEN" if "frozen 1" in t.splitlines() else "THAWED"),
}


def cgroup_file(pid: int | str, controller: str, name: str) -> str:
    """The content of a cgroup file of the cgroup that `pid` is in.  A v1 name
    on a v2 host reads its v2 counterpart and answers in v1 terms (pause is
    "FROZEN", a quota is cpu.max's first field); other names are read as they are."""
    convert = lambda t: t  # noqa: E731
    if V2 and name in V2_EQUIVALENT:
        name, convert = V2_EQUIVALENT[name]
    with open(os.path.join(cgroup_dir(pid, controller), name)) as f:
        return convert(f.read().strip())


def kill_cgroup_processes(parent: str) -> None:
    """SIGKILL every process left in the suite's cgroups (containers whose
    client gave up on them), so that the cgroups can be removed."""
    top = f"{ROOT}/{parent.lstrip('/')}" if V2 else f"{ROOT}/pids/{parent.lstrip('/')}"

    def left() -> list[int]:
        pids = []
        for dirpath, _, _ in os.walk(top):
            try:
                with open(os.path.join(dirpath, "cgroup.procs")) as f:
                    pids += [int(p) for p in f.read().split()]
            except OSError:
                pass
        return pids

    deadline = time.monotonic() + 10
    while (pids := left()) and time.monotonic() < deadline:
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        time.sleep(0.1)
