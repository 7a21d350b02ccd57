"""Cgroup behaviour of runc 1.1 seen through the CLI, for pyrunc and runc (any_rt):
`unified` on a v1 host, a cgroup that already holds processes or is frozen, device
rules runc takes, and `update` combinations."""

from __future__ import annotations

import os
import subprocess
import time

import pytest
from cg_testlib import unified_dir

from runtime.cgroups import mounts
from tests.support import leaks

V1 = mounts.hierarchies().v1
# All controllers on cgroup2 (a systemd + v2 host): one directory, the v2 files.
UNIFIED = unified_dir("/") is not None
PRECREATED = () if UNIFIED else ("devices", "pids", "freezer")


def v1_dir(sub: str, rel: str) -> str:
    return os.path.join(V1[sub].mountpoint, rel.lstrip("/"))


def dirs_of(rel: str) -> list[str]:
    """The container's cgroup directories: its v1 ones (devices, pids, freezer) or its
    one cgroup2 directory."""
    return [unified_dir(rel)] if UNIFIED else [v1_dir(sub, rel) for sub in PRECREATED]


def freeze(rel: str, frozen: bool) -> None:
    if UNIFIED:
        path, value = os.path.join(unified_dir(rel), "cgroup.freeze"), "01"[frozen]
    else:
        path = os.path.join(v1_dir("freezer", rel), "freezer.state")
        value = "FROZEN" if frozen else "THAWED"
    with open(path, "w") as f:
        f.write(value)


def frozen_state(rel: str) -> str:
    name = "cgroup.freeze" if UNIFIED else "freezer.state"
    with open(os.path.join(dirs_of(rel)[-1], name)) as f:
        return f.read().strip()


@pytest.fixture
def precreated(bundle):
    """The container's cgroup made beforehand (v1: devices, pids, freezer), removed after."""
    rel = bundle.linux["cgroupsPath"]
    for path in dirs_of(rel):
        os.makedirs(path, exist_ok=True)
    yield rel
    freeze(rel, False)
    leaks.remove_cgroup_tree(rel)


@pytest.mark.skipif(mounts.hierarchies().mode == "unified",
                    reason="a cgroup v2 host takes unified")
def test_unified_on_a_v1_host_is_an_invalid_configuration(any_rt, bundle):
    bundle.linux["resources"] = {"unified": {"memory.max": "100000000"}}
    bundle.save()
    p = any_rt("run", "-b", bundle.path, bundle.id)
    assert p.returncode == 1
    assert 'failed: invalid configuration: cannot use unified on cgroup v1"' in p.stderr
    assert any_rt.ids() == []
    assert leaks.cgroup_dirs(bundle.linux["cgroupsPath"]) == []


def test_a_cgroup_holding_processes_gives_a_warning(any_rt, bundle, precreated):
    sleeper = subprocess.Popen(["sleep", "1000"])
    try:
        for path in dirs_of(precreated):
            with open(os.path.join(path, "cgroup.procs"), "w") as f:
                f.write(str(sleeper.pid))
        bundle.args("/bin/true")
        p = any_rt("run", "-b", bundle.path, bundle.id)
        assert p.returncode == 0, p.stderr
        assert ('level=warning msg="container\'s cgroup is not empty: 1 process(es) found"'
                in p.stderr)
        assert any_rt.ids() == []       # the cgroup stays busy; the container is gone
        assert sleeper.poll() is None
    finally:
        sleeper.kill()
        sleeper.wait()


def test_a_frozen_cgroup_is_refused_not_joined(any_rt, bundle, precreated):
    freeze(precreated, True)
    p = any_rt("run", "-b", bundle.path, bundle.id, timeout=20)
    assert p.returncode == 1
    assert 'failed: container\'s cgroup unexpectedly frozen"' in p.stderr
    assert any_rt.ids() == []
    assert leaks.processes_mentioning(bundle.id) == []
    # not ours: left as found
    assert frozen_state(precreated) == ("1" if UNIFIED else "FROZEN")


@pytest.mark.parametrize("rule", [
    {"allow": True, "type": "", "major": 1, "minor": 3, "access": "rw"},   # "": all types
    {"allow": True, "type": "c", "access": "m"},
    {"allow": True, "type": "b", "major": 8, "access": "r"},
    {"allow": True, "type": "c", "major": -1, "minor": -1, "access": "rw"},
    {"allow": True, "type": "c", "major": 1, "minor": 5, "access": "rrw"},
], ids=["empty-type", "mknod-any-char", "block-major", "wildcards", "repeated-letters"])
def test_device_rules_runc_takes(any_rt, bundle, rule):
    bundle.linux["resources"] = {"devices": [{"allow": False, "access": "rwm"}, rule]}
    bundle.save()
    p = any_rt("run", "-b", bundle.path, bundle.id)
    assert p.returncode == 0, p.stderr


@pytest.fixture
def running(any_rt, bundle):
    bundle.args("/bin/sleep", "1000")
    bundle.linux["resources"] = {"memory": {"limit": 64 << 20}, "pids": {"limit": 50},
                                 "cpu": {"shares": 512}}
    bundle.save()
    any_rt("run", "-d", "-b", bundle.path, bundle.id, check=True)
    return bundle


def read(sub: str, rel: str, name: str) -> str:
    with open(os.path.join(v1_dir(sub, rel), name)) as f:
        return f.read().strip()


def read_of(rt, cid: str, name: str) -> str:
    """A control file of the container init's own cgroup, wherever the runtime put it."""
    sub = name.split(".")[0]
    with open(f"/proc/{rt.state(cid)['pid']}/cgroup") as f:
        for line in f:
            hid, controllers, path = line.rstrip("\n").split(":", 2)
            if UNIFIED and hid == "0":
                with open(os.path.join(unified_dir(path), name)) as g:
                    return g.read().strip()
            if sub in controllers.split(","):
                with open(os.path.join(V1[sub].mountpoint, path.lstrip("/"), name)) as g:
                    return g.read().strip()
    raise AssertionError(f"{cid} is in no {sub} cgroup")


# The files on v1, then on a cgroup2-only host (runc's conversions: swap.max is
# memory+swap minus memory, shares 2 is weight 1).
@pytest.mark.parametrize("flags, files, v2_files", [
    (["--memory", "-1", "--memory-swap", "-1"],
     {"memory.limit_in_bytes": "9223372036854771712"},
     {"memory.max": "max", "memory.swap.max": "max"}),
    (["--memory", "100M", "--memory-reservation", "50M", "--memory-swap", "200M"],
     {"memory.limit_in_bytes": str(100 << 20), "memory.soft_limit_in_bytes": str(50 << 20),
      "memory.memsw.limit_in_bytes": str(200 << 20)},
     {"memory.max": str(100 << 20), "memory.low": str(50 << 20),
      "memory.swap.max": str(100 << 20)}),
    (["--pids-limit", "-1"], {"pids.max": "max"}, {"pids.max": "max"}),
    (["--cpu-quota", "-1", "--cpu-period", "50000"],
     {"cpu.cfs_quota_us": "-1", "cpu.cfs_period_us": "50000"},
     {"cpu.max": "max 50000"}),
    (["--cpu-share", "2", "--cpu-quota", "10000"],
     {"cpu.shares": "2", "cpu.cfs_quota_us": "10000"},
     {"cpu.weight": "1", "cpu.max": "10000 100000"}),
    (["--kernel-memory", "50M", "--kernel-memory-tcp", "50M"],      # a warning, ignored
     {"memory.limit_in_bytes": str(64 << 20)}, {"memory.max": str(64 << 20)}),
], ids=["unlimited-memory", "memory", "unlimited-pids", "cpu-period", "cpu", "kernel"])
def test_update_takes_what_runc_takes(any_rt, running, flags, files, v2_files):
    p = any_rt("update", *flags, running.id)
    assert p.returncode == 0, p.stderr
    for name, value in (v2_files if UNIFIED else files).items():
        assert read_of(any_rt, running.id, name) == value, name


@pytest.mark.skipif(not os.path.exists(os.path.join(V1["cpu"].mountpoint, "cpu.rt_runtime_us"))
                    if "cpu" in V1 else True,
                    reason="the kernel has no real-time group scheduling (CONFIG_RT_GROUP_SCHED)")
def test_update_real_time_period_and_runtime(any_rt, bundle, cgroup_parent):
    # A child can only have real-time time its parent has: give the test's parent some.
    parent = v1_dir("cpu", cgroup_parent)
    os.makedirs(parent, exist_ok=True)
    with open(os.path.join(parent, "cpu.rt_runtime_us"), "w") as f:
        f.write("100000")
    try:
        bundle.args("/bin/sleep", "1000")
        bundle.linux["resources"] = {"cpu": {"realtimePeriod": 1000000,
                                             "realtimeRuntime": 10000}}
        bundle.save()
        any_rt("run", "-d", "-b", bundle.path, bundle.id, check=True)
        rel = bundle.linux["cgroupsPath"]
        assert read("cpu", rel, "cpu.rt_runtime_us") == "10000"
        any_rt("update", "--cpu-rt-period", "900000", "--cpu-rt-runtime", "20000", bundle.id,
               check=True)
        assert (read("cpu", rel, "cpu.rt_period_us"), read("cpu", rel, "cpu.rt_runtime_us")) \
            == ("900000", "20000")
        any_rt("update", "--cpu-rt-runtime", "30000", bundle.id, check=True)
        assert read("cpu", rel, "cpu.rt_runtime_us") == "30000"
        p = any_rt("update", "--cpu-rt-runtime", "200000", bundle.id)  # more than the parent
        assert p.returncode == 1 and "cpu.rt_runtime_us: invalid argument" in p.stderr
    finally:
        any_rt("delete", "--force", bundle.id)
        # A removed child's share is released a moment after its rmdir.
        deadline = time.monotonic() + 5
        while True:
            try:
                with open(os.path.join(parent, "cpu.rt_runtime_us"), "w") as f:
                    f.write("0")
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
