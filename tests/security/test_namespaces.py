"""User namespaces (mappings written by the runtime, mounts and /dev inside one)
and time namespaces (linux.timeOffsets), on real containers."""

from __future__ import annotations

import os
import shutil
import tempfile

import pytest

from tests.security.helpers import mount_at, output, runc_lacks, running, status

MAP = [{"containerID": 0, "hostID": 100000, "size": 65536}]


@pytest.fixture(scope="module")
def reachable_rootfs(rootfs):
    """A rootfs every uid can reach: the mapped root is nobody on the host, and
    pytest's own temporary directories are private to the real root."""
    top = tempfile.mkdtemp(prefix="pyrunc-userns-")
    os.chmod(top, 0o755)
    shutil.copytree(rootfs, os.path.join(top, "rootfs"), symlinks=True)
    yield os.path.join(top, "rootfs")
    shutil.rmtree(top)


@pytest.fixture
def bundle(make_bundle, reachable_rootfs):
    b = make_bundle()
    b.config["root"]["path"] = reachable_rootfs
    return b.save()


def userns(bundle, uid_maps=MAP, gid_maps=MAP):
    bundle.linux["namespaces"].append({"type": "user"})
    bundle.linux["uidMappings"] = uid_maps
    bundle.linux["gidMappings"] = gid_maps
    return bundle.save()


def test_mappings_are_written_and_root_is_mapped(rt, bundle):
    pid = running(rt, userns(bundle))
    for name in ("uid_map", "gid_map"):
        with open(f"/proc/{pid}/{name}") as f:
            assert f.read().split() == ["0", "100000", "65536"]
    st = status(pid)
    assert st["Uid"].split() == ["100000"] * 4
    assert st["Gid"].split() == ["100000"] * 4
    assert os.readlink(f"/proc/{pid}/ns/user") != os.readlink("/proc/self/ns/user")


def test_user_inside_a_user_namespace(rt, bundle):
    bundle.process["user"] = {"uid": 1000, "gid": 1000, "additionalGids": [5]}
    pid = running(rt, userns(bundle))
    st = status(pid)
    assert st["Uid"].split() == ["101000"] * 4
    assert st["Groups"].split() == ["100005"]


def test_several_ranges(rt, bundle):
    maps = [{"containerID": 0, "hostID": 200000, "size": 1000},
            {"containerID": 1000, "hostID": 300000, "size": 1000}]
    bundle.process["user"] = {"uid": 1500, "gid": 10}
    pid = running(rt, userns(bundle, maps, maps))
    assert status(pid)["Uid"].split()[0] == "300500"
    assert status(pid)["Gid"].split()[0] == "200010"


def test_inside_a_user_namespace(rt, bundle):
    out = output(rt, userns(bundle), "id -u; id -g; cat /proc/self/uid_map; "
                 "echo x > /dev/null && head -c 4 /dev/zero | wc -c; ls /proc/self/fd >/dev/null "
                 "&& echo proc; ls /sys/kernel >/dev/null && echo sys")
    lines = out.split("\n")
    assert lines[0:2] == ["0", "0"]
    assert lines[2].split() == ["0", "100000", "65536"]
    assert lines[3:6] == ["4", "proc", "sys"]


def test_devices_are_bind_mounted_from_the_host(rt, bundle):
    # mknod is refused in a user namespace: the host's nodes are bound instead.
    pid = running(rt, userns(bundle))
    null = mount_at(pid, "/dev/null")
    assert null["root"] == "/null"
    assert null["fstype"] == "devtmpfs"


def test_readonly_rootfs_in_a_user_namespace(rt, bundle):
    bundle.config["root"]["readonly"] = True
    pid = running(rt, userns(bundle))
    assert "ro" in mount_at(pid, "/")["opts"]


def test_rlimits_and_oom_score_adj_in_a_user_namespace(rt, bundle):
    import resource

    bundle.process["rlimits"] = [{"type": "RLIMIT_NOFILE", "soft": 300, "hard": 600}]
    bundle.process["oomScoreAdj"] = 300
    pid = running(rt, userns(bundle))
    assert resource.prlimit(pid, resource.RLIMIT_NOFILE) == (300, 600)
    with open(f"/proc/{pid}/oom_score_adj") as f:
        assert f.read().strip() == "300"


# -- time namespace --------------------------------------------------------------------
def _uptime(text: str) -> float:
    return float(text.split()[0])


@runc_lacks("time namespaces")
def test_time_offsets(rt, bundle):
    bundle.linux["namespaces"].append({"type": "time"})
    bundle.linux["timeOffsets"] = {"boottime": {"secs": 86400, "nanosecs": 7},
                                   "monotonic": {"secs": -60}}
    pid = running(rt, bundle.save())
    assert os.readlink(f"/proc/{pid}/ns/time") != os.readlink("/proc/self/ns/time")
    with open(f"/proc/{pid}/timens_offsets") as f:
        offsets = {line.split()[0]: line.split()[1:] for line in f}
    assert offsets == {"monotonic": ["-60", "0"], "boottime": ["86400", "7"]}
    rt("delete", "--force", bundle.id, check=True)
    with open("/proc/uptime") as f:
        host_before = _uptime(f.read())
    inside = _uptime(output(rt, bundle, "cat /proc/uptime"))
    with open("/proc/uptime") as f:
        host_after = _uptime(f.read())
    assert host_before + 86400 <= inside <= host_after + 86400


@runc_lacks("time namespaces")
def test_time_namespace_entered_before_start(rt, bundle):
    """The init is in the new time namespace while it waits for start, not only
    after its execve: kernels before 6.3 (Debian 12's 6.1) do not move a process
    into its time_for_children at execve."""
    bundle.linux["namespaces"].append({"type": "time"})
    bundle.linux["timeOffsets"] = {"monotonic": {"secs": 3600}}
    bundle.args("/bin/true")
    rt("create", "-b", bundle.save().path, bundle.id, check=True)
    pid = rt.state(bundle.id)["pid"]
    assert os.readlink(f"/proc/{pid}/ns/time") == os.readlink(f"/proc/{pid}/ns/time_for_children")
    assert os.readlink(f"/proc/{pid}/ns/time") != os.readlink("/proc/self/ns/time")


@runc_lacks("time namespaces")
@pytest.mark.guest
def test_time_offsets_on_the_guest_kernel(rt, bundle):
    """The offsets apply inside on Debian 12's kernel 6.1 too."""
    bundle.linux["namespaces"].append({"type": "time"})
    bundle.linux["timeOffsets"] = {"boottime": {"secs": 86400}}
    with open("/proc/uptime") as f:
        host_before = _uptime(f.read())
    inside = _uptime(output(rt, bundle, "cat /proc/uptime"))
    assert inside >= host_before + 86400


@runc_lacks("time namespaces")
def test_time_namespace_without_offsets(rt, bundle):
    bundle.linux["namespaces"].append({"type": "time"})
    pid = running(rt, bundle.save())
    assert os.readlink(f"/proc/{pid}/ns/time") != os.readlink("/proc/self/ns/time")
    with open(f"/proc/{pid}/timens_offsets") as f:
        assert all(line.split()[1:] == ["0", "0"] for line in f)


@runc_lacks("time namespaces")
def test_time_namespace_with_a_user_namespace(rt, bundle):
    bundle.linux["namespaces"].append({"type": "time"})
    bundle.linux["timeOffsets"] = {"boottime": {"secs": 1000}}
    inside = _uptime(output(rt, userns(bundle), "cat /proc/uptime"))
    with open("/proc/uptime") as f:
        assert inside >= _uptime(f.read()) + 990


def test_exec_in_a_user_namespace_is_in_every_cgroup(rt, bundle):
    """Joined to a user namespace, the exec'd process may not be cloned into its
    cgroup2 directory (runtime/process/cgroup_join.py): the runtime moves it then,
    and it ends up in every cgroup of the container all the same."""
    running(rt, userns(bundle))
    p = rt("exec", bundle.id, "/bin/cat", "/proc/self/cgroup")
    assert p.returncode == 0, p.stderr
    lines = p.stdout.split()
    assert any(line.startswith("0::") for line in lines), p.stdout
    assert {line.split(":", 2)[2] for line in lines} == {bundle.linux["cgroupsPath"]}, p.stdout
