"""The cgroup v2 driver on a real systemd + cgroup v2 host (the guest: tests/guest).

Each test runs a busybox container under pyrunc and under runc (cgroupfs
driver, cgroupsPath below a parent of the test's own), then checks the cgroup
files and what the kernel does with them: an OOM kill counted in memory.events,
a fork loop stopped by pids.max, a dd slowed by io.max, a device the program
denies, a frozen cgroup, cgroup.kill on delete.

Marked ``guest``: deselected on other hosts (tests/conftest.py).
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
import time
import uuid

import pytest
from cg_testlib import busybox_bundle, read, wait_for

from tests.support.runtime import RUNC, under_test_and_runc

CG = "/sys/fs/cgroup"
pytestmark = [
    pytest.mark.guest,
    pytest.mark.skipif(not os.path.exists(CG + "/cgroup.subtree_control"),
                       reason="needs cgroup2 mounted at /sys/fs/cgroup (pure v2 host)"),
]
MiB = 1024 * 1024


class Rt:
    """A runtime binary with a private --root."""

    def __init__(self, path: str, root: str) -> None:
        self.path, self.root = path, root
        self.name = "runc" if os.path.realpath(path) == os.path.realpath(RUNC) else "pyrunc"

    def __call__(self, *args: str, timeout: float = 120, input: str | None = None
                 ) -> subprocess.CompletedProcess:
        return subprocess.run([self.path, "--root", self.root, *args], capture_output=True,
                              text=True, timeout=timeout, input=input)

    def ok(self, *args: str, timeout: float = 120) -> str:
        p = self(*args, timeout=timeout)
        assert p.returncode == 0, f"{self.name} {' '.join(args)}: {p.stderr.strip()}"
        return p.stdout

    def run_detached(self, cid: str, bundle: str) -> None:
        with tempfile.TemporaryFile() as err:   # no pipes: the container keeps its stdio
            rc = subprocess.run([self.path, "--root", self.root, "run", "-d", "--bundle",
                                 bundle, cid], stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=err, timeout=120).returncode
            err.seek(0)
            assert rc == 0, f"{self.name} run: {err.read().decode().strip()}"

    def run_fg(self, cid: str, bundle: str, timeout: float = 180) -> subprocess.CompletedProcess:
        return self("run", "--bundle", bundle, cid, timeout=timeout)

    def cleanup(self) -> None:
        for cid in self("list", "-q").stdout.split():
            self("delete", "--force", cid)


@pytest.fixture(params=under_test_and_runc(), ids=lambda p: os.path.basename(p))
def rt(request, tmp_path, cg_parent):
    r = Rt(request.param, str(tmp_path / "root"))
    yield r
    r.cleanup()
    # runc (and pyrunc, like it) leaves the parents of a cgroupsPath: remove them if empty.
    for d in sorted({os.path.join(CG, cg_parent.lstrip("/"))}, reverse=True):
        for root, dirs, _ in os.walk(d, topdown=False):
            for sub in dirs:
                try:
                    os.rmdir(os.path.join(root, sub))
                except OSError:
                    pass
        try:
            os.rmdir(d)
        except OSError:
            pass


class Ctr:
    def __init__(self, rt: Rt, tmp_path, cg_parent: str, args: list[str], resources: dict,
                 *, sub: str = "", edit=None) -> None:
        self.rt = rt
        self.id = "g-" + uuid.uuid4().hex[:8]
        self.rel = f"{cg_parent}{sub}/{self.id}"
        self.dir = CG + self.rel
        self.bundle = busybox_bundle(str(tmp_path / self.id), self.rel, args, resources)
        if edit is not None:
            path = os.path.join(self.bundle, "config.json")
            with open(path) as f:
                config = json.load(f)
            edit(config)
            with open(path, "w") as f:
                json.dump(config, f)

    def start(self) -> Ctr:
        self.rt.run_detached(self.id, self.bundle)
        return self

    def run(self, timeout: float = 180) -> subprocess.CompletedProcess:
        return self.rt.run_fg(self.id, self.bundle, timeout=timeout)

    def file(self, name: str) -> str:
        return read(os.path.join(self.dir, name)).strip()

    def keyed(self, name: str) -> dict[str, int]:
        return {k: int(v) for k, v in (line.split() for line in self.file(name).splitlines())}

    def exec(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
        return self.rt("exec", self.id, *args, timeout=timeout)

    def delete(self) -> None:
        self.rt.ok("delete", "--force", self.id)


SLEEP = ["sleep", "1000"]


def start(rt, tmp_path, cg_parent, resources, args=SLEEP, **kw) -> Ctr:
    return Ctr(rt, tmp_path, cg_parent, args, resources, **kw).start()


def root_device() -> tuple[int, int]:
    st = os.stat("/dev/vda")
    return os.major(st.st_rdev), os.minor(st.st_rdev)


def with_vda(allow: bool):
    """A config edit: /dev/vda (the guest's root disk) inside, readable or not."""
    major, minor = root_device()

    def edit(config: dict) -> None:
        config["linux"].setdefault("devices", []).append(
            {"path": "/dev/vda", "type": "b", "major": major, "minor": minor,
             "fileMode": 0o660, "uid": 0, "gid": 0})
        rules = config["linux"]["resources"].setdefault("devices", [])
        if not rules:
            rules.append({"allow": False, "access": "rwm"})     # as in `runc spec`
        if allow:
            rules.append({"allow": True, "type": "b", "major": major, "minor": minor,
                          "access": "r"})
    return edit


# -- memory -------------------------------------------------------------------------

def test_memory_limit_reservation_swap(rt, tmp_path, cg_parent):
    c = start(rt, tmp_path, cg_parent,
              {"memory": {"limit": 64 * MiB, "reservation": 32 * MiB, "swap": 96 * MiB}})
    assert c.file("memory.max") == str(64 * MiB)
    assert c.file("memory.low") == str(32 * MiB)
    # OCI swap is memory+swap; cgroup2's swap.max is swap alone.
    assert c.file("memory.swap.max") == str(32 * MiB)
    rt.ok("update", "--memory", str(80 * MiB), "--memory-swap", str(100 * MiB),
          "--memory-reservation", str(16 * MiB), c.id)
    assert c.file("memory.max") == str(80 * MiB)
    assert c.file("memory.swap.max") == str(20 * MiB)
    assert c.file("memory.low") == str(16 * MiB)


def test_oom_kill_counted_in_events(rt, tmp_path, cg_parent):
    hog = ["sh", "-c", 'x=aaaaaaaa; while true; do x="$x$x"; done']
    c = start(rt, tmp_path, cg_parent, {"memory": {"limit": 32 * MiB, "swap": 32 * MiB}},
              args=hog)
    assert wait_for(lambda: json.loads(rt.ok("state", c.id))["status"] == "stopped", 120)
    assert c.keyed("memory.events")["oom_kill"] >= 1
    assert c.keyed("memory.events")["max"] >= 1


def test_memory_oom_group_kills_the_whole_container(rt, tmp_path, cg_parent):
    # The hog is a child of sh: with memory.oom.group the kernel kills sh and the sleep too.
    args = ["sh", "-c", 'sleep 1000 & sh -c \'x=aaaaaaaa; while true; do x="$x$x"; done\'; '
            'echo survived']
    c = Ctr(rt, tmp_path, cg_parent, args,
            {"memory": {"limit": 32 * MiB, "swap": 32 * MiB},
             "unified": {"memory.oom.group": "1"}})
    p = c.run()
    assert "survived" not in p.stdout
    assert p.returncode == 137, (p.returncode, p.stdout, p.stderr)


def test_events_stats_numbers(rt, tmp_path, cg_parent):
    c = start(rt, tmp_path, cg_parent, {"memory": {"limit": 64 * MiB}, "pids": {"limit": 50}},
              args=["sh", "-c", "sleep 1000 & sleep 1000 & wait"])
    assert wait_for(lambda: len(c.file("cgroup.procs").split()) == 3, 30)
    stats = json.loads(rt.ok("events", "--stats", c.id))
    assert stats["type"] == "stats" and stats["id"] == c.id
    data = stats["data"]
    assert data["pids"]["current"] == len(c.file("cgroup.procs").split()) == 3
    assert data["pids"]["limit"] == 50
    assert data["memory"]["usage"]["limit"] == 64 * MiB
    assert 0 < data["memory"]["usage"]["usage"] == pytest.approx(
        int(c.file("memory.current")), rel=0.5)
    assert data["cpu"]["usage"]["total"] > 0


# -- pids ---------------------------------------------------------------------------

def test_pids_fork_loop_stops(rt, tmp_path, cg_parent):
    c = start(rt, tmp_path, cg_parent, {"pids": {"limit": 8}})
    assert c.file("pids.max") == "8"
    p = c.exec("sh", "-c", "for i in 1 2 3 4 5 6 7 8 9 10 11 12; do sleep 100 & done; echo done")
    assert "can't fork" in p.stderr or "Resource temporarily unavailable" in p.stderr, p.stderr
    assert int(c.file("pids.current")) <= 8
    assert c.keyed("pids.events")["max"] >= 1
    rt.ok("update", "--pids-limit", "20", c.id)
    assert c.file("pids.max") == "20"


# -- cpu, cpuset --------------------------------------------------------------------

def test_cpu_weight_and_max(rt, tmp_path, cg_parent):
    c = start(rt, tmp_path, cg_parent, {"cpu": {"shares": 2048, "quota": 20000, "period": 100000}})
    assert c.file("cpu.weight") == str(1 + ((2048 - 2) * 9999) // 262142)
    assert c.file("cpu.max") == "20000 100000"
    rt.ok("update", "--cpu-share", "512", "--cpu-quota", "30000", "--cpu-period", "50000", c.id)
    assert c.file("cpu.weight") == str(1 + ((512 - 2) * 9999) // 262142)
    assert c.file("cpu.max") == "30000 50000"


def needs_spec_1_1(rt: Rt) -> None:
    """cpu.burst and cpu.idle came with runtime-spec 1.1 (runc 1.2)."""
    if rt.name == "runc":
        spec = rt.ok("--version").split("spec: ")[1].split()[0]
        if spec.startswith("1.0."):
            pytest.skip(f"this runc implements runtime-spec {spec}, without cpu.burst/cpu.idle")


def test_cpu_burst(rt, tmp_path, cg_parent):
    needs_spec_1_1(rt)
    c = start(rt, tmp_path, cg_parent, {"cpu": {"quota": 20000, "period": 100000,
                                                "burst": 10000}})
    assert c.file("cpu.max.burst") == "10000"
    p = rt("update", "--resources", "-", c.id,
           input=json.dumps({"cpu": {"quota": 40000, "burst": 30000}}))
    assert p.returncode == 0, p.stderr
    assert c.file("cpu.max") == "40000 100000"
    assert c.file("cpu.max.burst") == "30000"


def test_cpu_idle(rt, tmp_path, cg_parent):
    needs_spec_1_1(rt)
    c = start(rt, tmp_path, cg_parent, {"cpu": {"idle": 1}})
    assert c.file("cpu.idle") == "1"
    p = rt("update", "--resources", "-", c.id, input=json.dumps({"cpu": {"idle": 0}}))
    assert p.returncode == 0, p.stderr
    assert c.file("cpu.idle") == "0"


def test_cpu_max_throttles_a_busy_loop(rt, tmp_path, cg_parent):
    c = start(rt, tmp_path, cg_parent, {"cpu": {"quota": 10000, "period": 100000}},
              args=["sh", "-c", "while :; do :; done"])
    before = c.keyed("cpu.stat")
    time.sleep(3)
    after = c.keyed("cpu.stat")
    used = after["usage_usec"] - before["usage_usec"]
    assert after["nr_throttled"] > before["nr_throttled"]
    assert used < 3_000_000 * 0.10 * 1.5      # 10% of a CPU, and some slack


def test_cpuset(rt, tmp_path, cg_parent):
    if os.cpu_count() < 2:
        pytest.skip("needs 2 CPUs")
    c = start(rt, tmp_path, cg_parent, {"cpu": {"cpus": "1", "mems": "0"}})
    assert c.file("cpuset.cpus") == "1"
    assert c.file("cpuset.mems") == "0"
    assert "Cpus_allowed_list:\t1\n" in c.exec("cat", "/proc/self/status").stdout
    rt.ok("update", "--cpuset-cpus", "0", c.id)
    assert c.file("cpuset.cpus") == "0"
    assert "Cpus_allowed_list:\t0\n" in c.exec("cat", "/proc/self/status").stdout


# -- io -----------------------------------------------------------------------------

def test_io_weight(rt, tmp_path, cg_parent):
    major, minor = root_device()
    c = start(rt, tmp_path, cg_parent,
              {"blockIO": {"weight": 500,
                           "weightDevice": [{"major": major, "minor": minor, "weight": 200}]}})
    if os.path.exists(os.path.join(c.dir, "io.bfq.weight")):
        assert c.file("io.bfq.weight").splitlines()[0] == "default 500"
    else:
        # no BFQ: runc's conversion into io.weight; per-device weights need BFQ
        assert c.file("io.weight").splitlines()[0] == "default 4950"
    rt.ok("update", "--blkio-weight", "1000", c.id)
    assert c.file("io.weight").splitlines()[0] == "default 10000"


def _dd_seconds(c: Ctr, skip_mib: int, mib: int) -> int:
    # Uncached reads of the root disk, from a part nothing else reads.
    p = c.exec("sh", "-c", f"s=$(busybox date +%s); busybox dd if=/dev/vda of=/dev/null "
                           f"bs=64k count={mib * 16} skip={skip_mib * 16} 2>/dev/null; "
                           f"echo $(( $(busybox date +%s) - s ))", timeout=300)
    assert p.returncode == 0, p.stderr
    return int(p.stdout.split()[-1])


def test_io_throttle_bps_and_iops(rt, tmp_path, cg_parent):
    major, minor = root_device()
    dev = f"{major}:{minor}"
    c = start(rt, tmp_path, cg_parent,
              {"blockIO": {"throttleReadBpsDevice": [{"major": major, "minor": minor,
                                                      "rate": MiB}],
                           "throttleWriteIOPSDevice": [{"major": major, "minor": minor,
                                                        "rate": 100}]}},
              edit=with_vda(allow=True))
    line = next(ln for ln in c.file("io.max").splitlines() if ln.startswith(dev + " "))
    assert "rbps=1048576" in line and "wiops=100" in line
    # 6 MiB at 1 MiB/s: at least 5 s (unthrottled, about a second even under TCG)
    offset = 1000 + uuid.uuid4().int % 3000
    assert _dd_seconds(c, offset, 6) >= 5
    # (like runc, `update` changes only the blkio weight: tested in test_io_weight)


# -- hugetlb, rdma, misc -----------------------------------------------------------------

def test_hugetlb(rt, tmp_path, cg_parent):
    if not os.path.exists(CG + "/cgroup.controllers") or \
            "hugetlb" not in read(CG + "/cgroup.controllers").split():
        pytest.skip("no hugetlb controller")
    c = start(rt, tmp_path, cg_parent,
              {"hugepageLimits": [{"pageSize": "2MB", "limit": 4 * 2 * MiB}]})
    assert c.file("hugetlb.2MB.max") == str(8 * MiB)


def test_rdma_where_present(rt, tmp_path, cg_parent):
    """rdma limits name an HCA: only where the machine has one."""
    hcas = [ln.split()[0] for ln in read(CG + "/rdma.current").splitlines()] \
        if os.path.exists(CG + "/rdma.current") else []
    if "rdma" not in read(CG + "/cgroup.controllers").split() or not hcas:
        pytest.skip("no rdma controller or no RDMA device in this machine")
    c = start(rt, tmp_path, cg_parent, {"rdma": {hcas[0]: {"hcaHandles": 3, "hcaObjects": 30}}})
    assert f"{hcas[0]} hca_handle=3 hca_object=30" in c.file("rdma.max")


def test_misc_where_present(rt, tmp_path, cg_parent):
    """misc has no OCI field: a `unified` key, where a resource has a capacity."""
    caps = read(CG + "/misc.capacity").split() if os.path.exists(CG + "/misc.capacity") else []
    if not caps:
        pytest.skip("no misc resource with a capacity in this machine (e.g. SEV ASIDs)")
    c = start(rt, tmp_path, cg_parent, {"unified": {"misc.max": f"{caps[0]} 1"}})
    assert f"{caps[0]} 1" in c.file("misc.max")


# -- devices --------------------------------------------------------------------------

def test_device_program_denies_and_allows(rt, tmp_path, cg_parent):
    denied = start(rt, tmp_path, cg_parent, {}, edit=with_vda(allow=False))
    p = denied.exec("head", "-c", "1", "/dev/vda")
    assert p.returncode != 0 and "Operation not permitted" in p.stderr, p
    assert denied.exec("head", "-c", "1", "/dev/zero").returncode == 0
    allowed = start(rt, tmp_path, cg_parent, {}, edit=with_vda(allow=True))
    p = allowed.exec("head", "-c", "1", "/dev/vda")
    assert p.returncode == 0, p.stderr


# -- freezer, kill, delete, ps -------------------------------------------------------

def test_freeze_and_thaw(rt, tmp_path, cg_parent):
    c = start(rt, tmp_path, cg_parent, {})
    rt.ok("pause", c.id)
    assert c.file("cgroup.freeze") == "1"
    assert wait_for(lambda: c.keyed("cgroup.events")["frozen"] == 1, 20)
    assert json.loads(rt.ok("state", c.id))["status"] == "paused"
    rt.ok("resume", c.id)
    assert c.file("cgroup.freeze") == "0"
    assert wait_for(lambda: c.keyed("cgroup.events")["frozen"] == 0, 20)
    assert json.loads(rt.ok("state", c.id))["status"] == "running"


def test_delete_kills_every_process_and_removes_the_cgroup(rt, tmp_path, cg_parent):
    c = start(rt, tmp_path, cg_parent, {},
              args=["sh", "-c", "sleep 1000 & sleep 1000 & sleep 1000 & wait"])
    assert wait_for(lambda: len(c.file("cgroup.procs").split()) == 4, 30)
    pids = [int(p) for p in c.file("cgroup.procs").split()]
    c.delete()
    assert not os.path.exists(c.dir)
    for pid in pids:
        assert wait_for(lambda pid=pid: not os.path.exists(f"/proc/{pid}"), 10)


def test_ps_lists_the_cgroup(rt, tmp_path, cg_parent):
    c = start(rt, tmp_path, cg_parent, {}, args=["sh", "-c", "sleep 1000 & sleep 1000 & wait"])
    assert wait_for(lambda: len(c.file("cgroup.procs").split()) == 3, 30)
    listed = sorted(json.loads(rt.ok("ps", "--format", "json", c.id)))
    assert listed == sorted(int(p) for p in c.file("cgroup.procs").split())
    assert len(listed) == 3


# -- unified, nesting, namespace --------------------------------------------------------

def test_unified_keys_and_their_update(rt, tmp_path, cg_parent):
    c = start(rt, tmp_path, cg_parent,
              {"unified": {"memory.high": str(48 * MiB), "pids.max": "7",
                           "cpu.weight.nice": "5"}})
    assert c.file("memory.high") == str(48 * MiB)
    assert c.file("pids.max") == "7"
    assert c.file("cpu.weight.nice") == "5"
    p = rt("update", "--resources", "-", c.id,
           input=json.dumps({"unified": {"memory.high": str(40 * MiB)}}))
    assert p.returncode == 0, p.stderr
    assert c.file("memory.high") == str(40 * MiB)


def test_unified_key_of_a_missing_controller_is_refused(rt, tmp_path, cg_parent):
    c = Ctr(rt, tmp_path, cg_parent, SLEEP, {"unified": {"nosuch.max": "1"}})
    p = rt("run", "-d", "--bundle", c.bundle, c.id)
    assert p.returncode != 0
    assert not os.path.exists(c.dir)


def test_nested_cgroups_path(rt, tmp_path, cg_parent):
    c = start(rt, tmp_path, cg_parent, {"pids": {"limit": 9}}, sub="/a/b")
    assert c.dir.startswith(CG + cg_parent + "/a/b/")
    assert c.file("pids.max") == "9"
    # every controller the leaf needs is enabled on the way down
    for level in (cg_parent, cg_parent + "/a", cg_parent + "/a/b"):
        assert "pids" in read(CG + level + "/cgroup.subtree_control").split()
    c.delete()
    assert not os.path.exists(c.dir)


def test_cgroup_namespace_sees_its_cgroup_as_root(rt, tmp_path, cg_parent):
    def cgroupns(config: dict) -> None:
        ns = config["linux"]["namespaces"]
        if not any(n["type"] == "cgroup" for n in ns):
            ns.append({"type": "cgroup"})

    c = start(rt, tmp_path, cg_parent, {"pids": {"limit": 11}}, edit=cgroupns)
    assert c.exec("cat", "/proc/self/cgroup").stdout.strip() == "0::/"
    # its /sys/fs/cgroup is its own cgroup: the limit is at the top
    assert c.exec("cat", "/sys/fs/cgroup/pids.max").stdout.strip() == "11"
