"""Side by side with runc 1.1: the same linux.resources must give the same cgroup files.

runc runs a busybox container with a given cgroupsPath; our manager sets the
same resources on a sibling cgroup; the control files, the hierarchies joined
and the shape of ``runc events --stats`` are compared.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile

import pytest
from cg_testlib import (
    has_blkio_weight,
    leftovers,
    read,
    requires_blkio_weight,
    requires_root,
    requires_v1,
)

from runtime.cgroups import CgroupError, for_container, mounts

pytestmark = [requires_root,
              pytest.mark.skipif(shutil.which("runc") is None, reason="runc is not installed"),
              pytest.mark.skipif(not os.path.exists("/bin/busybox"),
                                 reason="busybox-static is not installed")]

RESOURCES = {
    "devices": [{"allow": False, "access": "rwm"},
                {"allow": True, "type": "c", "major": 1, "minor": 11, "access": "r"}],
    "memory": {"limit": 64 << 20, "reservation": 32 << 20, "swap": 128 << 20,
               "swappiness": 10, "disableOOMKiller": False},
    "cpu": {"shares": 512, "quota": 50000, "period": 100000, "cpus": "0", "mems": "0"},
    "pids": {"limit": 50},
}
# Without BFQ (or CFQ) the kernel has no weight file and runc refuses the weight.
WEIGHT = {"blockIO": {"weight": 300}}

COMPARED = {
    "memory": ("memory.limit_in_bytes", "memory.soft_limit_in_bytes",
               "memory.memsw.limit_in_bytes", "memory.swappiness", "memory.oom_control"),
    "cpu": ("cpu.shares", "cpu.cfs_quota_us", "cpu.cfs_period_us", "cpu.rt_runtime_us"),
    "cpuset": ("cpuset.cpus", "cpuset.mems"),
    "pids": ("pids.max",),
    "blkio": ("blkio.weight", "blkio.bfq.weight", "blkio.throttle.read_bps_device"),
    "devices": ("devices.list",),
}


@pytest.fixture(scope="module")
def bundle():
    d = tempfile.mkdtemp(prefix="pyrunc-test-cgbundle-")
    bindir = os.path.join(d, "rootfs", "bin")
    os.makedirs(bindir)
    shutil.copy("/bin/busybox", bindir)
    for applet in ("sh", "sleep", "cat"):
        os.symlink("busybox", os.path.join(bindir, applet))
    for sub in ("proc", "sys", "dev", "tmp"):
        os.makedirs(os.path.join(d, "rootfs", sub))
    subprocess.run(["runc", "spec", "--bundle", d], check=True)
    yield d
    shutil.rmtree(d)


class Runc:
    def __init__(self, bundle: str) -> None:
        self.bundle = bundle
        self.ids: list[str] = []

    def run(self, cid: str, cgroups_path: str, resources: dict) -> tuple[int, str]:
        with open(os.path.join(self.bundle, "config.json")) as f:
            config = json.load(f)
        config["process"]["terminal"] = False
        config["process"]["args"] = ["sleep", "1000"]
        config["linux"]["cgroupsPath"] = cgroups_path
        config["linux"]["resources"] = resources
        with open(os.path.join(self.bundle, "config.json"), "w") as f:
            json.dump(config, f)
        self.ids.append(cid)
        with tempfile.TemporaryFile() as err:
            # Detached: runc hands its stdio to the container, so no pipes here.
            rc = subprocess.run(["runc", "run", "-d", "--bundle", self.bundle, cid],
                                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=err, timeout=60).returncode
            err.seek(0)
            return rc, err.read().decode()

    def __call__(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(["runc", *args], capture_output=True, text=True, timeout=60)

    def cleanup(self) -> None:
        for cid in self.ids:
            self("delete", "-f", cid)


@pytest.fixture
def runc(bundle, cg_parent):
    r = Runc(bundle)
    yield r
    r.cleanup()
    # runc leaves the parent of its cgroup behind; it is ours to remove.
    for d in sorted(leftovers(cg_parent), key=len, reverse=True):
        try:
            os.rmdir(d)
        except OSError:
            pass


def snapshot(paths: dict[str, str]) -> dict[str, str]:
    out = {}
    for sub, names in COMPARED.items():
        for name in names:
            p = os.path.join(paths[sub], name)
            if os.path.exists(p):
                text = read(p)
                if name == "memory.oom_control":     # only the setting, not counters
                    text = text.splitlines()[0]
                if name == "devices.list":
                    # the same rules; the kernel lists them in the order written, and
                    # pyrunc writes the config's order (the spec's "listed order",
                    # runtime-tools linux_cgroups_devices) where runc sorts them
                    text = "".join(sorted(text.splitlines(keepends=True)))
                out[name] = text
    return out


def runc_paths(cid: str) -> dict[str, str]:
    with open(f"/run/runc/{cid}/state.json") as f:
        return json.load(f)["cgroup_paths"]


@requires_v1     # compares v1 control files; test_v2_guest.py compares v2's
@pytest.mark.parametrize("resources", [
    pytest.param(RESOURCES, id="resources"),
    pytest.param({**RESOURCES, **WEIGHT}, marks=requires_blkio_weight, id="blkio-weight"),
])
def test_same_resources_same_files(runc, cg_parent, procs, resources):
    rc, err = runc.run("pyrunc-cgcmp-" + os.urandom(3).hex(), cg_parent + "/runc", resources)
    assert rc == 0, err
    theirs = runc_paths(runc.ids[-1])
    ours = for_container("x", cg_parent + "/ours")
    try:
        ours.create()
        ours.set(resources)
        p = procs.sleeper()
        ours.apply(p.pid)
        assert set(ours.paths) == set(theirs)       # same hierarchies, incl. cgroup2
        snap = snapshot(ours.paths)
        assert {"devices.list", "pids.max", "cpu.shares", "memory.memsw.limit_in_bytes",
                "cpuset.cpus"} <= set(snap)
        assert snap == snapshot(theirs)
        # Both processes are in the same places, modulo the leaf name.
        init = json.load(open(f"/run/runc/{runc.ids[-1]}/state.json"))["init_process_pid"]
        assert read(f"/proc/{p.pid}/cgroup").replace("/ours", "/X") == \
            read(f"/proc/{init}/cgroup").replace("/runc", "/X")
    finally:
        procs.stop_all()
        ours.destroy()


@requires_v1     # compares v1 control files; test_v2_guest.py compares v2's
def test_update_matches_runc_update(runc, cg_parent):
    rc, err = runc.run("pyrunc-cgcmp-" + os.urandom(3).hex(), cg_parent + "/runc", RESOURCES)
    assert rc == 0, err
    cid = runc.ids[-1]
    ours = for_container("x", cg_parent + "/ours")
    try:
        ours.create()
        ours.set(RESOURCES)
        r = runc("update", "--memory", "100M", "--memory-swap", "200M", "--pids-limit", "30",
                 "--cpu-quota", "20000", "--cpu-share", "256", cid)
        assert r.returncode == 0, r.stderr
        ours.update({"memory": {"limit": 100 << 20, "swap": 200 << 20},
                     "pids": {"limit": 30}, "cpu": {"quota": 20000, "shares": 256}})
        assert snapshot(ours.paths) == snapshot(runc_paths(cid))
    finally:
        ours.destroy()


def test_stats_have_the_shape_of_runc_events(runc, cg_parent, procs):
    rc, err = runc.run("pyrunc-cgcmp-" + os.urandom(3).hex(), cg_parent + "/runc", RESOURCES)
    assert rc == 0, err
    r = runc("events", "--stats", runc.ids[-1])
    assert r.returncode == 0, r.stderr
    event = json.loads(r.stdout)
    theirs = event["data"]
    ours = for_container("x", cg_parent + "/ours")
    try:
        ours.create()
        ours.set(RESOURCES)
        ours.apply(procs.sleeper().pid)
        mine = ours.stats()
        assert list(mine) == list(theirs)
        assert mine["cpuset"] == theirs["cpuset"]
        assert mine["pids"]["limit"] == theirs["pids"]["limit"] == 50
        for key in ("usage", "swap", "kernel", "kernelTCP"):
            assert mine["memory"][key]["limit"] == theirs["memory"][key]["limit"]
        assert set(mine["memory"]["raw"]) == set(theirs["memory"]["raw"])
        assert list(mine["cpu"]["usage"])[-2:] == ["kernel", "user"]
        assert mine["hugetlb"] == theirs["hugetlb"] or set(mine["hugetlb"]) == \
            set(theirs["hugetlb"])
    finally:
        procs.stop_all()
        ours.destroy()


@requires_v1     # errors of v1 control files: on v2 runc takes these values
@pytest.mark.parametrize("resources", [
    {"memory": {"swappiness": 200}},
    {"network": {"classID": 1234}},
    pytest.param(WEIGHT, id="blkio-weight-without-bfq", marks=pytest.mark.skipif(
        has_blkio_weight(), reason="the kernel has a blkio weight file")),
])
def test_errors_read_like_runc(runc, cg_parent, resources):
    if "network" in resources and "net_cls" in mounts.hierarchies().v1:
        pytest.skip("net_cls is mounted on this host")
    rc, err = runc.run("pyrunc-cgcmp-" + os.urandom(3).hex(), cg_parent + "/runc", resources)
    assert rc != 0
    ours = for_container("x", cg_parent + "/ours")
    try:
        ours.create()
        with pytest.raises(CgroupError) as e:
            ours.set(resources)
        # runc opens cgroup files with openat2; the paths differ only in the leaf.
        assert str(e.value) in err.replace("openat2 ", "open ").replace("/runc/", "/ours/")
    finally:
        ours.destroy()
