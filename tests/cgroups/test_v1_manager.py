"""The v1/hybrid manager on this machine's real hierarchies, with real processes."""

from __future__ import annotations

import json
import os
import signal
import time

import pytest
from cg_testlib import leftovers, read, requires_blkio_weight, requires_root, wait_for

from runtime.cgroups import CgroupError, for_container, from_state, mounts

pytestmark = requires_root

h = mounts.hierarchies()
if h.mode not in ("v1", "hybrid"):
    pytest.skip(f"this host's cgroups are {h.mode}, not v1/hybrid", allow_module_level=True)


@pytest.fixture
def mgr(cg_parent, procs):
    m = for_container("c1", cg_parent + "/c1")
    m.create()
    yield m
    procs.stop_all()
    m.destroy()


def f(mgr, sub: str, name: str) -> str:
    return read(os.path.join(mgr.path(sub), name)).strip()


def test_create_apply_pids_and_destroy_leave_nothing(cg_parent, procs):
    m = for_container("c1", cg_parent + "/c1")
    m.create()
    for sub, path in m.paths.items():
        assert os.path.isdir(path), sub
    # A new cpuset cgroup is usable at once: cpus/mems copied from the parent.
    assert f(m, "cpuset", "cpuset.cpus") == read("/sys/fs/cgroup/cpuset/cpuset.cpus").strip()
    a, b = procs.sleeper(), procs.sleeper()
    m.apply(a.pid)
    m.apply(b.pid)
    for sub in m.paths:
        assert f"{sub}:{cg_parent}/c1" in read(f"/proc/{a.pid}/cgroup").replace("0::", ":")
    assert sorted(m.pids()) == sorted([a.pid, b.pid])
    # pids() is recursive: a process in a sub-cgroup counts too.
    sub_dir = os.path.join(m.path("devices"), "inner")
    os.mkdir(sub_dir)
    with open(os.path.join(sub_dir, "cgroup.procs"), "w") as fh:
        fh.write(str(b.pid))
    assert sorted(m.pids()) == sorted([a.pid, b.pid])
    procs.stop_all()
    m.destroy()
    assert leftovers(cg_parent) == []


def test_destroy_keeps_parents_it_did_not_create(cg_parent, procs):
    first = for_container("a", cg_parent + "/a")
    second = for_container("b", cg_parent + "/b")
    first.create()
    second.create()
    first.destroy()     # the shared parent is still in use by "b"
    assert os.path.isdir(second.path("memory"))
    second.destroy()    # "b" did not create the parent, so it stays ...
    assert leftovers(cg_parent) != []
    for d in leftovers(cg_parent):
        os.rmdir(d)


def test_kernel_tcp_memory_limit(mgr):
    # Set as crun does (runc 1.1.5 ignores it); kernel memory itself stays unset.
    if not os.path.exists(os.path.join(mgr.path("memory"), "memory.kmem.tcp.limit_in_bytes")):
        pytest.skip("this kernel has no memory.kmem.tcp.limit_in_bytes")
    mgr.set({"memory": {"kernelTCP": 16 << 20, "kernel": 32 << 20}})
    assert f(mgr, "memory", "memory.kmem.tcp.limit_in_bytes") == str(16 << 20)


def test_memory_limits_and_swappiness(mgr):
    mgr.set({"memory": {"limit": 64 << 20, "reservation": 32 << 20, "swap": 128 << 20,
                        "swappiness": 10}})
    assert f(mgr, "memory", "memory.limit_in_bytes") == str(64 << 20)
    assert f(mgr, "memory", "memory.soft_limit_in_bytes") == str(32 << 20)
    assert f(mgr, "memory", "memory.memsw.limit_in_bytes") == str(128 << 20)
    assert f(mgr, "memory", "memory.swappiness") == "10"
    # Lowering both: memory first, then memsw (memsw >= memory at every step).
    mgr.update({"memory": {"limit": 16 << 20, "swap": 16 << 20}})
    assert f(mgr, "memory", "memory.memsw.limit_in_bytes") == str(16 << 20)
    # Unlimited memory and swap unset: both become unlimited.
    mgr.update({"memory": {"limit": -1}})
    assert int(f(mgr, "memory", "memory.memsw.limit_in_bytes")) > 1 << 60
    assert mgr.resources["memory"]["limit"] == -1


def test_oom_kill_is_counted(mgr, procs):
    mgr.set({"memory": {"limit": 32 << 20, "swap": 32 << 20}})
    hog = procs.python("x = b'x' * (256 << 20)\nprint('survived')")
    mgr.apply(hog.pid)
    assert mgr.oom_kill_count() == 0
    out, _ = hog.communicate(b"go\n", timeout=60)
    assert hog.returncode == -signal.SIGKILL and b"survived" not in out
    assert mgr.oom_kill_count() == 1
    st = mgr.stats()["memory"]
    assert st["usage"]["max"] > 30 << 20 or st["swap"]["failcnt"] > 0, st


def test_disable_oom_killer(mgr):
    mgr.set({"memory": {"limit": 32 << 20, "disableOOMKiller": True}})
    assert "oom_kill_disable 1" in f(mgr, "memory", "memory.oom_control")


def test_memory_limit_below_usage_is_refused_like_runc(mgr, procs):
    hog = procs.python("x = b'x' * (40 << 20)\nprint('ready', flush=True)\n"
                       "sys.stdin.readline()")
    mgr.apply(hog.pid)
    hog.stdin.write(b"go\n")
    hog.stdin.flush()
    assert hog.stdout.readline() == b"ready\n"
    with pytest.raises(CgroupError, match=r"unable to set memory limit to 4096 "
                                          r"\(current usage: \d+, peak usage: \d+\)"):
        mgr.update({"memory": {"limit": 4096}})


def test_pids_limit_stops_a_fork_loop(mgr, procs):
    mgr.set({"pids": {"limit": 5}})
    assert f(mgr, "pids", "pids.max") == "5"
    forker = procs.python(
        "import os, time\nok = 0\n"
        "for _ in range(20):\n"
        "    try:\n"
        "        if os.fork() == 0:\n"
        "            time.sleep(2); os._exit(0)\n"
        "        ok += 1\n"
        "    except BlockingIOError:\n"
        "        pass\n"
        "print(ok, flush=True)\n")
    mgr.apply(forker.pid)
    out, _ = forker.communicate(b"go\n", timeout=30)
    assert int(out) == 4          # the forker itself is the fifth task
    assert "max" in f(mgr, "pids", "pids.events")
    mgr.update({"pids": {"limit": -1}})
    assert f(mgr, "pids", "pids.max") == "max"


def test_cpu_settings(mgr):
    mgr.set({"cpu": {"shares": 512, "quota": 50000, "period": 200000, "burst": 1000,
                     "idle": 0}})
    assert f(mgr, "cpu", "cpu.shares") == "512"
    assert f(mgr, "cpu", "cpu.cfs_quota_us") == "50000"
    assert f(mgr, "cpu", "cpu.cfs_period_us") == "200000"
    assert f(mgr, "cpu", "cpu.cfs_burst_us") == "1000"
    # update: quota alone keeps the period, like runc.
    mgr.update({"cpu": {"quota": 20000}})
    assert f(mgr, "cpu", "cpu.cfs_quota_us") == "20000"
    assert f(mgr, "cpu", "cpu.cfs_period_us") == "200000"
    with pytest.raises(CgroupError, match="the minimum allowed cpu-shares is 2"):
        mgr.update({"cpu": {"shares": 1}})
    with pytest.raises(CgroupError, match="the maximum allowed cpu-shares is 262144"):
        mgr.update({"cpu": {"shares": 10 ** 9}})
    with pytest.raises(CgroupError, match='failed to write "500": write .*cfs_period_us: '
                                          'invalid argument'):
        mgr.update({"cpu": {"period": 500}})


def test_cpu_quota_throttles_a_busy_process(mgr, procs):
    mgr.set({"cpu": {"quota": 10000, "period": 100000}})     # 10% of one CPU
    spin = procs.python("import time\nend = time.time() + 1\nwhile time.time() < end: pass")
    mgr.apply(spin.pid)
    spin.communicate(b"go\n", timeout=30)
    st = mgr.stats()
    assert st["cpu"]["throttling"]["throttledPeriods"] > 0
    assert st["cpu"]["usage"]["total"] < 0.3e9      # far below the 1 s it wanted


def test_cpuset_and_its_validation(mgr, procs):
    cpus = read("/sys/fs/cgroup/cpuset/cpuset.effective_cpus").strip()
    mgr.set({"cpu": {"cpus": "0", "mems": "0"}})
    assert f(mgr, "cpuset", "cpuset.cpus") == "0"
    p = procs.sleeper()
    mgr.apply(p.pid)
    assert wait_for(lambda: "Cpus_allowed_list:\t0\n" in read(f"/proc/{p.pid}/status"))
    with pytest.raises(CgroupError, match=f'not available \\(the parent cgroup has "{cpus}"'):
        mgr.update({"cpu": {"cpus": "64"}})
    assert f(mgr, "cpuset", "cpuset.cpus") == "0"


def test_blkio_throttle(mgr):
    dev = os.stat("/").st_dev
    major, minor = os.major(dev), os.minor(dev)
    mgr.set({"blockIO": {"throttleReadBpsDevice": [
        {"major": major, "minor": minor, "rate": 1 << 20}]}})
    assert f(mgr, "blkio", "blkio.throttle.read_bps_device") == f"{major}:{minor} {1 << 20}"


@requires_blkio_weight
def test_blkio_weight(mgr):
    mgr.set({"blockIO": {"weight": 300}})
    weight = "blkio.weight" if os.path.exists(mgr.path("blkio") + "/blkio.weight") \
        else "blkio.bfq.weight"
    assert f(mgr, "blkio", weight).split()[-1] == "300"


def test_freeze_stops_and_thaw_resumes(mgr, procs, tmp_path):
    counter = tmp_path / "count"
    p = procs.python("import time\ni = 0\nwhile True:\n"
                     f"    i += 1\n    open({str(counter)!r}, 'w').write(str(i))\n"
                     "    time.sleep(0.005)")
    mgr.apply(p.pid)
    p.stdin.write(b"go\n")
    p.stdin.flush()
    assert wait_for(lambda: counter.exists() and counter.read_text() not in ("", "0"))
    assert not mgr.is_frozen()
    mgr.freeze()
    assert mgr.is_frozen() and f(mgr, "freezer", "freezer.state") == "FROZEN"
    frozen_at = counter.read_text()
    time.sleep(0.3)
    assert counter.read_text() == frozen_at
    mgr.thaw()
    assert not mgr.is_frozen()
    assert wait_for(lambda: counter.read_text() != frozen_at)


def test_stats_have_runc_shape(mgr, procs):
    mgr.set({"memory": {"limit": 64 << 20}, "pids": {"limit": 50}, "cpu": {"cpus": "0"}})
    mgr.apply(procs.sleeper().pid)
    st = mgr.stats()
    assert list(st) == ["cpu", "cpuset", "memory", "pids", "blkio", "hugetlb", "intel_rdt",
                        "network_interfaces"]
    assert st["pids"] == {"current": 1, "limit": 50}
    assert st["memory"]["usage"]["limit"] == 64 << 20
    assert st["cpuset"]["cpus"] == [0]
    assert "kernel" in st["cpu"]["usage"] and "user" in st["cpu"]["usage"]
    assert st["network_interfaces"] is None and st["intel_rdt"] == {}
    json.dumps(st)


def test_errors_leave_the_cgroup_untouched_and_destroy_cleans_up(cg_parent):
    m = for_container("c1", cg_parent + "/deep/c1")
    m.create()
    limit = read(m.path("memory") + "/memory.limit_in_bytes")
    with pytest.raises(CgroupError, match="cpu.cpus"):
        m.set({"memory": {"limit": 1 << 26}, "cpu": {"cpus": "0-4096"}})
    # The memory limit was not written: validation happens before any write.
    assert read(m.path("memory") + "/memory.limit_in_bytes") == limit
    m.destroy()
    assert leftovers(cg_parent) == []


def test_net_and_unified_requests_fail_clearly_when_not_available(mgr):
    if "net_cls" not in mounts.hierarchies().v1:
        with pytest.raises(CgroupError, match="cannot set net_cls limit"):
            mgr.set({"network": {"classID": 1234}})
    with pytest.raises(CgroupError, match='controller "memory" not available|cannot use '
                                          "unified on cgroup v1"):
        mgr.set({"unified": {"memory.max": "1000000"}})


def test_state_round_trip(mgr, procs):
    early = mgr.to_state()          # the lifecycle saves this once more after set()
    mgr.set({"pids": {"limit": 7}})
    assert early["resources"] == {"pids": {"limit": 7}}
    p = procs.sleeper()
    mgr.apply(p.pid)
    saved = json.loads(json.dumps(mgr.to_state()))
    again = from_state(saved)
    assert again.pids() == [p.pid]
    assert again.resources["pids"] == {"limit": 7}
    again.update({"pids": {"limit": 9}})
    assert f(mgr, "pids", "pids.max") == "9"
    procs.stop_all()
    again.destroy()
    assert not again.exists()


def test_oom_watcher_reports_kills_and_the_cgroup_going_away(cg_parent, procs):
    m = for_container("c1", cg_parent + "/c1")
    m.create()
    w = None
    try:
        m.set({"memory": {"limit": 32 << 20, "swap": 32 << 20}})
        w = m.oom_watcher()
        assert w.wait(0.1) == []
        hog = procs.python("x = b'x' * (256 << 20)")
        m.apply(hog.pid)
        hog.communicate(b"go\n", timeout=60)
        assert w.wait(10) == ["oom"]
        procs.stop_all()
        m.destroy()
        assert w.wait(10) is None
    finally:
        if w is not None:
            w.close()
        procs.stop_all()
        m.destroy()


def test_failed_update_puts_the_old_values_back(mgr):
    mgr.set({"memory": {"limit": 64 << 20}})
    with pytest.raises(CgroupError, match="minimum allowed cpu-shares"):
        # memory is written before cpu fails; runc then re-applies the old values.
        mgr.update({"memory": {"limit": 128 << 20}, "cpu": {"shares": 1}})
    assert f(mgr, "memory", "memory.limit_in_bytes") == str(64 << 20)
    assert mgr.resources["memory"]["limit"] == 64 << 20
