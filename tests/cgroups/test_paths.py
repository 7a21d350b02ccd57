"""cgroupsPath semantics and hierarchy discovery (pure: sample mountinfo texts)."""

from __future__ import annotations

import pytest

from runtime.cgroups import CgroupError
from runtime.cgroups.mounts import parse_mountinfo, parse_proc_cgroup
from runtime.cgroups.paths import clean_path, inner_path, v1_paths, v2_path

HYBRID = """\
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct
34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
36 31 0:33 / /sys/fs/cgroup/devices rw,relatime - cgroup cgroup rw,devices
37 31 0:34 /docker/abc /sys/fs/cgroup/freezer rw,relatime - cgroup cgroup rw,freezer
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw,nsdelegate
"""

UNIFIED = """\
25 21 0:22 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 \
rw,nsdelegate,memory_recursiveprot
"""

PROC_CGROUP = """\
9:name=systemd:/user.slice
5:devices:/user.slice
4:memory:/user.slice/session-1.scope
3:cpuset:/
2:cpu,cpuacct:/user.slice
6:freezer:/docker/abc/inner
0::/user.slice/session-1.scope
"""


@pytest.mark.parametrize("raw, cleaned", [
    ("a/b", "a/b"), ("../x", "x"), ("/a/../../b", "/b"), ("//x//y/", "/x/y"),
    ("./a", "a"), ("a/../../..", "."), ("", ""), ("/", "/"),
])
def test_clean_path_never_climbs_out(raw, cleaned):
    assert clean_path(raw) == cleaned


def test_inner_path_defaults_to_the_container_id():
    assert inner_path("ctr", None) == "ctr"
    assert inner_path("ctr", "") == "ctr"
    assert inner_path("ctr", "/a/b") == "/a/b"
    assert inner_path("ctr", "x/../y") == "y"


@pytest.mark.parametrize("bad", ["/", "..", "/.."])
def test_inner_path_refuses_the_root(bad):
    with pytest.raises(CgroupError):
        inner_path("ctr", bad)


def test_mountinfo_hybrid_layout():
    h = parse_mountinfo(HYBRID)
    assert h.mode == "hybrid"
    assert h.v1["cpu"].mountpoint == "/sys/fs/cgroup/cpu,cpuacct"
    assert h.v1["cpuacct"] is h.v1["cpu"]
    assert "xattr" not in h.v1 and "name=systemd" in h.v1
    assert h.unified.mountpoint == "/sys/fs/cgroup/unified"
    assert h.v1["freezer"].root == "/docker/abc"


def test_mountinfo_unified_and_v1_only_layouts():
    assert parse_mountinfo(UNIFIED).mode == "unified"
    v1_only = "\n".join(line for line in HYBRID.splitlines() if "cgroup2" not in line)
    assert parse_mountinfo(v1_only).mode == "v1"
    assert parse_mountinfo("").mode == "none"


def test_mountinfo_unescapes_mount_points():
    text = "50 1 0:40 / /tmp/a\\040b rw - cgroup cgroup rw,net_cls\n"
    assert parse_mountinfo(text).v1["net_cls"].mountpoint == "/tmp/a b"


def test_absolute_path_goes_below_every_mount_point():
    paths = v1_paths(parse_mountinfo(HYBRID), "/my/ctr")
    assert paths == {
        "cpuset": "/sys/fs/cgroup/cpuset/my/ctr",
        "devices": "/sys/fs/cgroup/devices/my/ctr",
        "memory": "/sys/fs/cgroup/memory/my/ctr",
        "cpu": "/sys/fs/cgroup/cpu,cpuacct/my/ctr",
        "cpuacct": "/sys/fs/cgroup/cpu,cpuacct/my/ctr",
        "freezer": "/sys/fs/cgroup/freezer/my/ctr",
        "name=systemd": "/sys/fs/cgroup/systemd/my/ctr",
        "": "/sys/fs/cgroup/unified/my/ctr",
    }


def test_relative_path_goes_below_our_own_cgroup():
    own = parse_proc_cgroup(PROC_CGROUP)
    paths = v1_paths(parse_mountinfo(HYBRID), "rel", own)
    assert paths["memory"] == "/sys/fs/cgroup/memory/user.slice/session-1.scope/rel"
    assert paths["cpuset"] == "/sys/fs/cgroup/cpuset/rel"
    assert paths["cpu"] == "/sys/fs/cgroup/cpu,cpuacct/user.slice/rel"
    # The mount's root is taken off our cgroup (we run inside /docker/abc).
    assert paths["freezer"] == "/sys/fs/cgroup/freezer/inner/rel"
    assert paths["name=systemd"] == "/sys/fs/cgroup/systemd/user.slice/rel"
    # runc's hybrid quirk: the cgroup2 side of a relative path sits at the top.
    assert paths[""] == "/sys/fs/cgroup/unified/rel"


def test_devices_hierarchy_is_required_on_v1():
    no_devices = "\n".join(line for line in HYBRID.splitlines()
                           if "devices" not in line and "cgroup2" not in line)
    with pytest.raises(CgroupError, match="devices"):
        v1_paths(parse_mountinfo(no_devices), "/x")


def test_hybrid_without_v1_devices_filters_on_the_cgroup2_side():
    no_devices = "\n".join(line for line in HYBRID.splitlines() if "devices" not in line)
    paths = v1_paths(parse_mountinfo(no_devices), "/x")
    assert "devices" not in paths and paths[""] == "/sys/fs/cgroup/unified/x"


def test_unified_paths():
    h = parse_mountinfo(UNIFIED)
    assert v2_path(h, "/a/b") == "/sys/fs/cgroup/a/b"
    # Relative: below the parent of our own cgroup (which is a leaf holding us).
    own = parse_proc_cgroup(PROC_CGROUP)
    assert v2_path(h, "ctr", own) == "/sys/fs/cgroup/user.slice/ctr"
