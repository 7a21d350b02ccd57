"""cgroup v2 code paths.

What is tested on a real cgroup2 hierarchy here (the hybrid host's unified
mount, which only offers hugetlb besides the core files):

* the v2 manager's create (enabling controllers down the path), apply, pids,
  freeze/thaw through cgroup.freeze, hugetlb limits, the ``unified`` map,
  stats from the core files (cpu.stat, cgroup.procs), cgroup.kill and destroy;
* the hybrid v1 manager's use of the cgroup2 side for hugetlb.

What is NOT tested against the kernel: writing v2 memory, cpu, pids, io and
cpuset files.  Those controllers are bound to v1 hierarchies on this machine
(and other processes use them), and a second cgroup2 mount shows the same
hierarchy, so they cannot be exercised without disturbing the host.  Their
conversions from the OCI values (shares -> cpu.weight, blkio weight ->
io.weight, memory+swap -> memory.swap.max, cpu.max) are tested as pure
functions against runc's formulas instead.

Enabling hugetlb at the cgroup2 root is undone after each test.
"""

from __future__ import annotations

import os
import signal
import time

import pytest
from cg_testlib import RootSubtreeGuard, leftovers, read, requires_root, wait_for

from runtime.cgroups import CgroupError, for_container, from_state, mounts
from runtime.cgroups.v2 import cpu as v2cpu
from runtime.cgroups.v2 import io as v2io
from runtime.cgroups.v2 import memory as v2memory
from runtime.cgroups.v2.manager import V2Manager

# -- conversions (pure) -----------------------------------------------------------


@pytest.mark.parametrize("shares, weight", [(0, 0), (2, 1), (1024, 39), (262144, 10000)])
def test_cpu_shares_to_weight(shares, weight):
    assert v2cpu.shares_to_weight(shares) == weight


@pytest.mark.parametrize("blkio, io", [(0, 0), (10, 1), (500, 4950), (1000, 10000)])
def test_blkio_weight_to_io_weight(blkio, io):
    assert v2io.blkio_weight_to_io_weight(blkio) == io


@pytest.mark.parametrize("swap, limit, expect", [
    (0, -1, -1),             # unlimited memory, swap unset: unlimited swap
    (-1, 100, -1), (0, 100, 0),
    (300, 100, 200),         # OCI swap is memory+swap
    (100, 100, 0),
])
def test_swap_conversion(swap, limit, expect):
    assert v2memory.swap_value(swap, limit) == expect


@pytest.mark.parametrize("swap, limit, message", [
    (300, 0, "unable to set swap limit without memory limit"),
    (100, 300, "memory\\+swap limit should be >= memory limit"),
])
def test_swap_conversion_errors(swap, limit, message):
    with pytest.raises(CgroupError, match=message):
        v2memory.swap_value(swap, limit)


# -- real cgroup2 -------------------------------------------------------------------

H = mounts.hierarchies()
needs_cgroup2 = pytest.mark.skipif(H.unified is None, reason="no cgroup2 mount on this host")


@pytest.fixture
def v2(cg_parent, procs):
    """A V2Manager on this host's cgroup2 mount; the root is restored afterwards."""
    guard = RootSubtreeGuard(H.unified.mountpoint)
    m = V2Manager(os.path.join(H.unified.mountpoint, cg_parent.lstrip("/"), "c"),
                  mount=H.unified.mountpoint, container_id="c")
    try:
        m.create()
        yield m
    finally:
        procs.stop_all()
        try:
            m.destroy()
        finally:
            guard.restore()


@requires_root
@needs_cgroup2
def test_v2_create_offers_the_available_controllers(v2, cg_parent):
    parent = os.path.dirname(v2.path)
    available = set(read(H.unified.mountpoint + "/cgroup.controllers").split())
    assert set(read(parent + "/cgroup.subtree_control").split()) == available
    assert set(read(v2.path + "/cgroup.controllers").split()) == available
    assert v2.created == [parent, v2.path]


@requires_root
@needs_cgroup2
def test_v2_apply_pids_freeze_thaw(v2, procs, tmp_path):
    counter = tmp_path / "n"
    p = procs.python("import time\ni = 0\nwhile True:\n"
                     f"    i += 1\n    open({str(counter)!r}, 'w').write(str(i))\n"
                     "    time.sleep(0.005)")
    v2.apply(p.pid)
    assert v2.pids() == [p.pid]
    assert f"0::{os.path.relpath(v2.path, H.unified.mountpoint)}" in \
        read(f"/proc/{p.pid}/cgroup").replace("0::/", "0::")
    p.stdin.write(b"go\n")
    p.stdin.flush()
    assert wait_for(lambda: counter.exists() and counter.read_text() not in ("", "0"))
    v2.freeze()
    assert v2.is_frozen() and read(v2.path + "/cgroup.freeze").strip() == "1"
    seen = counter.read_text()
    time.sleep(0.3)
    assert counter.read_text() == seen
    v2.thaw()
    assert v2.freezer_state() == "THAWED"
    assert wait_for(lambda: counter.read_text() != seen)
    st = v2.stats()
    assert st["pids"] == {"current": 1}           # counted from cgroup.procs
    assert st["cpu"]["usage"]["total"] > 0        # from the core cpu.stat
    # The OOM watcher (no memory controller here) still sees the cgroup empty out.
    w = v2.oom_watcher()
    assert w.wait(0.2) == []
    p.kill()
    p.wait()
    assert w.wait(5) is None


@requires_root
@needs_cgroup2
def test_v2_hugetlb_and_unified(v2):
    if "hugetlb" not in read(v2.path + "/cgroup.controllers").split():
        pytest.skip("the cgroup2 root offers no hugetlb controller on this host")
    v2.set({"hugepageLimits": [{"pageSize": "2MB", "limit": 4 << 20}],
            "unified": {"cgroup.max.descendants": "3", "hugetlb.1GB.max": str(1 << 30)}})
    assert read(v2.path + "/hugetlb.2MB.max").strip() == str(4 << 20)
    assert read(v2.path + "/hugetlb.1GB.max").strip() == str(1 << 30)
    assert read(v2.path + "/cgroup.max.descendants").strip() == "3"
    assert set(v2.stats()["hugetlb"]) == {"2MB", "1GB"}
    with pytest.raises(CgroupError, match='invalid hugepage size "3MB"'):
        v2.set({"hugepageLimits": [{"pageSize": "3MB", "limit": 0}]})


@requires_root
@needs_cgroup2
def test_v2_refuses_controllers_it_does_not_have(v2):
    present = read(v2.path + "/cgroup.controllers").split()
    if "memory" in present:
        pytest.skip("memory is available on this cgroup2 hierarchy")
    with pytest.raises(CgroupError, match='unified resource "memory.max" can\'t be set: '
                                          'controller "memory" not available'):
        v2.set({"unified": {"memory.max": "100000"}})
    with pytest.raises(CgroupError, match="cannot set memory limit"):
        v2.set({"memory": {"limit": 1 << 26}})
    with pytest.raises(CgroupError, match="realtime"):
        v2.set({"cpu": {"realtimeRuntime": 1000}})


@requires_root
@needs_cgroup2
def test_v2_kill_all_and_destroy(cg_parent, procs):
    guard = RootSubtreeGuard(H.unified.mountpoint)
    m = V2Manager(os.path.join(H.unified.mountpoint, cg_parent.lstrip("/"), "k"),
                  mount=H.unified.mountpoint)
    try:
        m.create()
        a, b = procs.sleeper(), procs.sleeper()
        m.apply(a.pid)
        m.apply(b.pid)
        again = from_state(m.to_state())
        again.kill_all()
        assert a.wait(5) == -signal.SIGKILL and b.wait(5) == -signal.SIGKILL
        again.destroy()
        assert leftovers(cg_parent) == []
    finally:
        procs.stop_all()
        m.destroy()
        guard.restore()


@requires_root
@needs_cgroup2
def test_hybrid_manager_sets_hugetlb_on_the_cgroup2_side(cg_parent):
    if H.mode != "hybrid" or "hugetlb" in H.v1 or "hugetlb" not in H.unified_controllers():
        pytest.skip("needs a hybrid host with hugetlb only on cgroup2")
    guard = RootSubtreeGuard(H.unified.mountpoint)
    m = for_container("c", cg_parent + "/c")
    try:
        m.create()
        m.set({"hugepageLimits": [{"pageSize": "2MB", "limit": 2 << 20}]})
        assert read(m.path("") + "/hugetlb.2MB.max").strip() == str(2 << 20)
        assert m.stats()["hugetlb"]["2MB"] == {"failcnt": 0}
    finally:
        m.destroy()
        guard.restore()
    assert leftovers(cg_parent) == []
