"""The v2 driver on real cgroup2 controllers: pids and cpu lent by v1 (v1_release.py).

For this module only, the v1 pids and cpu hierarchies are unmounted so that
cgroup2 gets both controllers; they are mounted again when the module ends,
also after a failure or Ctrl-C, and the fixture checks that those mounts and
the memory one are the same as before.  If a hierarchy has child cgroups (another test uses it),
everything here is skipped with that reason.  The memory hierarchy is never
touched, and no test here sets memory limits.

Two layouts, each with real containers:

* ``hybrid``: the host as it is during the window; pyrunc's hybrid manager
  must put pids and cpu limits on the cgroup2 side (runc 1.1's v1 driver has
  no such fallback: when it refuses, the test is skipped with runc's error);
* ``pure-v2``: cgroup2 bound over /sys/fs/cgroup in a private mount namespace
  (v2_layouts.py): the unified driver of pyrunc, and runc's fs2 driver.
"""

from __future__ import annotations

import atexit
import json
import os
import subprocess
import tempfile
import time

import pytest
from cg_testlib import (
    Pyrunc,
    RootSubtreeGuard,
    busybox_bundle,
    leftovers,
    pyrunc_command,
    read,
    requires_root,
    wait_for,
)
from v1_release import UNIFIED, NotLendable, lend
from v2_layouts import LayoutRuntime, drop_runc_parents, host_cgroup2_dir

from runtime.cgroups import mounts

LENT = ["pids", "cpu"]


def cgroup_mounts() -> list[tuple]:
    """The cgroup mounts without their ids: (root, mountpoint, options, fs, source, super)."""
    out = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            head, _, tail = line.partition(" - ")
            fields = head.split()
            if tail.startswith("cgroup"):
                out.append((fields[3], fields[4], fields[5], *tail.split()))
    return sorted(out)


@pytest.fixture(scope="module")
def lent_v2():
    """pids and cpu on cgroup2 for this module; the v1 layout is restored afterwards."""
    if os.geteuid() != 0:
        pytest.skip("needs root: unmounts and mounts cgroup hierarchies")
    before = cgroup_mounts()
    try:
        lent = lend(LENT)
    except NotLendable as e:
        pytest.skip(f"cannot lend {' '.join(LENT)} to cgroup2: {e}")
    atexit.register(lent.give_back)        # in case the teardown never runs
    try:
        mounts.refresh()
        yield lent
    finally:
        try:
            lent.give_back()
        finally:
            mounts.refresh()
            # Only the lent hierarchies and memory: others may mount e.g. hugetlb meanwhile.
            watched = {m["mountpoint"] for m in lent.mounts} | {"/sys/fs/cgroup/memory"}
            before = [m for m in before if m[1] in watched]
            after = [m for m in cgroup_mounts() if m[1] in watched]
            assert after == before, f"cgroup mounts changed: {sorted(set(before) ^ set(after))}"
            assert not set(lent.v2_names) & set(read(UNIFIED + "/cgroup.controllers").split())


@pytest.fixture(params=["hybrid", "pure-v2"])
def runtime(request, lent_v2, tmp_path, cg_parent):
    layout = request.param
    guard = RootSubtreeGuard(UNIFIED)
    rt = Pyrunc(str(tmp_path / "root")) if layout == "hybrid" else \
        LayoutRuntime(str(tmp_path / "root"), layout)
    rt.layout = layout
    try:
        yield rt
    finally:
        rt.cleanup()
        drop_runc_parents(cg_parent)
        guard.restore()
    assert leftovers(cg_parent) == []


def start(rt, tmp_path, cg_parent: str, args: list[str], resources: dict) -> tuple[str, str]:
    """Run a container; returns its id and its cgroup2 directory as seen from here."""
    cid = "v2-" + os.urandom(3).hex()
    bundle = busybox_bundle(str(tmp_path / cid), f"{cg_parent}/{cid}", args, resources)
    if rt.layout == "hybrid" and os.environ.get("PYRUNC_TEST_RUNTIME"):
        # runc 1.1's v1 driver has no cgroup2 fallback for a controller v1 lacks.
        with tempfile.TemporaryFile() as err:   # no pipes: the container would keep them
            rc = subprocess.run(pyrunc_command() + ["--root", rt.root, "run", "-d", "--bundle",
                                                    bundle, cid],
                                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=err, timeout=60).returncode
            err.seek(0)
            if rc != 0:
                pytest.skip(f"{pyrunc_command()[0]} refuses this layout: "
                            f"{err.read().decode().strip().splitlines()[-1]}")
    else:
        rt.run_detached(cid, bundle)
    p = rt("state", cid)
    assert p.returncode == 0, p.stderr
    cg = host_cgroup2_dir(json.loads(p.stdout)["pid"])
    assert cg == os.path.join(UNIFIED, cg_parent.lstrip("/"), cid)
    return cid, cg


def keyed(path: str) -> dict[str, int]:
    return {k: int(v) for k, v in (line.split() for line in read(path).splitlines())}


# busybox sh gives up at the first refused fork, so the loop runs in a child shell;
# the init then execs (no fork) and keeps the sleeps: init + child + 6 sleeps = 8.
FORK_LOOP = ("sh -c 'while :; do sleep 1000 & done'; echo done > /tmp/done; "
             "exec sleep 1000")


@requires_root
def test_pids_max_stops_a_fork_loop(runtime, tmp_path, cg_parent):
    cid, cg = start(runtime, tmp_path, cg_parent, ["sh", "-c", FORK_LOOP],
                    {"pids": {"limit": 8}})
    assert read(cg + "/pids.max").strip() == "8"
    assert wait_for(lambda: keyed(cg + "/pids.events")["max"] > 0, timeout=10)
    # (not through exec: a process joining a full cgroup could not fork there)
    assert wait_for(lambda: (tmp_path / cid / "rootfs/tmp/done").exists(), timeout=10)
    assert int(read(cg + "/pids.current")) == 7            # the child shell has gone
    p = runtime("events", "--stats", cid)
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["data"]["pids"] == {"current": 7, "limit": 8}
    p = runtime("update", "--pids-limit", "20", cid)
    assert p.returncode == 0, p.stderr
    assert read(cg + "/pids.max").strip() == "20"


@requires_root
def test_cpu_max_and_weight_throttle_a_busy_loop(runtime, tmp_path, cg_parent):
    cid, cg = start(runtime, tmp_path, cg_parent, ["sh", "-c", "while :; do :; done"],
                    {"cpu": {"shares": 2048, "quota": 10000, "period": 100000}})
    assert read(cg + "/cpu.max").split() == ["10000", "100000"]
    assert read(cg + "/cpu.weight").strip() == "79"          # runc's shares -> weight
    first = keyed(cg + "/cpu.stat")
    t0 = time.monotonic()
    time.sleep(1.0)
    second = keyed(cg + "/cpu.stat")
    wall_us = (time.monotonic() - t0) * 1e6
    used = second["usage_usec"] - first["usage_usec"]
    assert used <= 0.2 * wall_us, (used, wall_us)             # 10% of one CPU, with slack
    assert second["nr_throttled"] > first["nr_throttled"]
    p = runtime("update", "--cpu-quota", "50000", "--cpu-share", "1024", cid)
    assert p.returncode == 0, p.stderr
    assert read(cg + "/cpu.max").split() == ["50000", "100000"]
    assert read(cg + "/cpu.weight").strip() == "39"
    p = runtime("events", "--stats", cid)
    assert p.returncode == 0, p.stderr
    throttling = json.loads(p.stdout)["data"]["cpu"]["throttling"]
    assert throttling["throttledPeriods"] >= second["nr_throttled"]


def test_a_lent_hierarchy_is_mounted_again_as_it_was():
    """The remount repeats what `mount` showed (pure: nothing is mounted here)."""
    from v1_release import _mount_args

    entry = {"dev": "0:36", "root": "/", "mountpoint": "/sys/fs/cgroup/pids",
             "opts": "rw,relatime", "fstype": "cgroup", "source": "cgroup", "super": "rw,pids"}
    assert _mount_args(entry) == ["mount", "-t", "cgroup", "-o", "rw,relatime,pids", "cgroup",
                                  "/sys/fs/cgroup/pids"]
