"""pause, resume, update, ps and events through the pyrunc CLI, on real containers."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time

import pytest
from cg_testlib import (
    Pyrunc,
    busybox_bundle,
    leftovers,
    messages,
    pyrunc_command,
    read,
    requires_blkio_weight,
    requires_v1,
    unified_dir,
    wait_for,
)

pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0, reason="needs root: runs real containers"),
    pytest.mark.skipif(not os.path.exists("/bin/busybox") or shutil.which("runc") is None,
                       reason="needs busybox-static and runc (for `runc spec`)"),
]

COUNTER = "i=0; while true; do i=$((i+1)); echo $i > /tmp/count; sleep 0.01; done"


@pytest.fixture
def pyrunc(tmp_path, cg_parent):
    r = Pyrunc(str(tmp_path / "root"))
    yield r
    r.cleanup()
    assert leftovers(cg_parent) == []


@pytest.fixture
def start(pyrunc, tmp_path, cg_parent):
    """start(args, resources) -> (container id, bundle path) of a running container."""
    def go(args: list[str], resources: dict | None = None) -> tuple[str, str]:
        cid = "cg-" + os.urandom(4).hex()
        bundle = busybox_bundle(str(tmp_path / cid), f"{cg_parent}/{cid}", args, resources)
        pyrunc.run_detached(cid, bundle)
        return cid, bundle

    return go


# All controllers on cgroup2 (a systemd + v2 host): the v2 files are checked instead.
UNIFIED = unified_dir("/") is not None


def cgroup_file(pyrunc, cid: str, sub: str, name: str) -> str:
    """A control file of the container's cgroup: ``sub``'s v1 directory, or its one
    cgroup2 directory on a unified host."""
    with open(os.path.join(pyrunc.root, cid, "state.json")) as f:
        saved = json.load(f)["cgroup"]
    path = saved["path"] if UNIFIED else saved["paths"][sub]
    return read(os.path.join(path, name)).strip()


def frozen(pyrunc, cid: str) -> bool:
    if UNIFIED:
        return cgroup_file(pyrunc, cid, "", "cgroup.freeze") == "1"
    return cgroup_file(pyrunc, cid, "freezer", "freezer.state") == "FROZEN"


def test_pause_stops_the_container_and_resume_restarts_it(pyrunc, start):
    cid, bundle = start(["sh", "-c", COUNTER])
    count = os.path.join(bundle, "rootfs", "tmp", "count")
    assert wait_for(lambda: os.path.exists(count) and read(count).strip() not in ("", "1"))
    p = pyrunc("pause", cid)
    assert p.returncode == 0, p.stderr
    assert pyrunc.state(cid)["status"] == "paused"
    assert frozen(pyrunc, cid)
    seen = read(count)
    time.sleep(0.3)
    assert read(count) == seen
    again = pyrunc("pause", cid)
    assert again.returncode == 1 and "container not running" in messages(again.stderr)
    p = pyrunc("resume", cid)
    assert p.returncode == 0, p.stderr
    assert pyrunc.state(cid)["status"] == "running"
    assert wait_for(lambda: read(count) != seen)
    again = pyrunc("resume", cid)
    assert again.returncode == 1 and "container not paused" in messages(again.stderr)


def test_a_paused_container_can_be_force_deleted(pyrunc, start):
    cid, _ = start(["sleep", "1000"])
    assert pyrunc("pause", cid).returncode == 0
    try:
        p = pyrunc("delete", "--force", cid, timeout=60)
        assert p.returncode == 0, p.stderr
        assert pyrunc("list", "-q").stdout.split() == []
    finally:
        pyrunc("resume", cid)


def test_update_with_flags(pyrunc, start):
    cid, _ = start(["sleep", "1000"], {"memory": {"limit": 64 << 20}, "pids": {"limit": 50},
                                       "cpu": {"shares": 512, "quota": 50000,
                                               "period": 100000}})
    p = pyrunc("update", "--memory", "100M", "--memory-swap", "200M", "--pids-limit", "30",
               "--cpu-quota", "20000", "--cpu-share", "256", "--cpuset-cpus", "0", cid)
    assert p.returncode == 0, p.stderr
    if UNIFIED:
        # runc's v2 conversions: swap.max is memory+swap minus memory; shares 256 is
        # weight 1 + (256 - 2) * 9999 // 262142.
        assert cgroup_file(pyrunc, cid, "", "memory.max") == str(100 << 20)
        assert cgroup_file(pyrunc, cid, "", "memory.swap.max") == str(100 << 20)
        assert cgroup_file(pyrunc, cid, "", "pids.max") == "30"
        assert cgroup_file(pyrunc, cid, "", "cpu.max") == "20000 100000"
        assert cgroup_file(pyrunc, cid, "", "cpu.weight") == "10"
        assert cgroup_file(pyrunc, cid, "", "cpuset.cpus") == "0"
    else:
        assert cgroup_file(pyrunc, cid, "memory", "memory.limit_in_bytes") == str(100 << 20)
        assert cgroup_file(pyrunc, cid, "memory", "memory.memsw.limit_in_bytes") == \
            str(200 << 20)
        assert cgroup_file(pyrunc, cid, "pids", "pids.max") == "30"
        assert cgroup_file(pyrunc, cid, "cpu", "cpu.cfs_quota_us") == "20000"
        assert cgroup_file(pyrunc, cid, "cpu", "cpu.cfs_period_us") == "100000"
        assert cgroup_file(pyrunc, cid, "cpu", "cpu.shares") == "256"
        assert cgroup_file(pyrunc, cid, "cpuset", "cpuset.cpus") == "0"
    # The new values are remembered: a later update of something else keeps them.
    with open(os.path.join(pyrunc.root, cid, "state.json")) as f:
        saved = json.load(f)["cgroup"]["resources"]
    assert saved["memory"]["limit"] == 100 << 20 and saved["pids"]["limit"] == 30
    assert pyrunc("update", "--pids-limit", "31", cid).returncode == 0
    memory_max = "memory.max" if UNIFIED else "memory.limit_in_bytes"
    assert cgroup_file(pyrunc, cid, "memory", memory_max) == str(100 << 20)


@requires_blkio_weight
def test_update_blkio_weight(pyrunc, start):
    cid, _ = start(["sleep", "1000"])
    p = pyrunc("update", "--blkio-weight", "300", cid)
    assert p.returncode == 0, p.stderr
    with open(os.path.join(pyrunc.root, cid, "state.json")) as f:
        blkio = json.load(f)["cgroup"]["paths"]["blkio"]
    name = "blkio.weight" if os.path.exists(blkio + "/blkio.weight") else "blkio.bfq.weight"
    assert read(os.path.join(blkio, name)).split()[-1] == "300"


def test_update_from_a_file_and_from_stdin(pyrunc, start, tmp_path):
    cid, _ = start(["sleep", "1000"])
    res = tmp_path / "res.json"
    res.write_text(json.dumps({"memory": {"limit": 80 << 20}, "pids": {"limit": 12}}))
    p = pyrunc("update", "-r", str(res), "--pids-limit", "99", cid)   # flags are ignored
    assert p.returncode == 0, p.stderr
    assert cgroup_file(pyrunc, cid, "pids", "pids.max") == "12"
    memory_max = "memory.max" if UNIFIED else "memory.limit_in_bytes"
    assert cgroup_file(pyrunc, cid, "memory", memory_max) == str(80 << 20)
    p = pyrunc("update", "--resources", "-", cid,
               input=json.dumps({"cpu": {"shares": 300}, "pids": {"limit": 13}}))
    assert p.returncode == 0, p.stderr
    if UNIFIED:     # 1 + (300 - 2) * 9999 // 262142
        assert cgroup_file(pyrunc, cid, "cpu", "cpu.weight") == "12"
    else:
        assert cgroup_file(pyrunc, cid, "cpu", "cpu.shares") == "300"
    assert cgroup_file(pyrunc, cid, "pids", "pids.max") == "13"


@pytest.mark.parametrize("args, message", [
    (["--memory", "-2"], "invalid value for memory: invalid size: '-2'"),
    (["--cpu-period", "x"], 'invalid value for cpu-period: strconv.ParseUint: parsing "x"'),
    # v1's check of what cpu.shares kept; v2 has cpu.weight instead
    pytest.param(["--cpu-share", "1"], "the minimum allowed cpu-shares is 2", marks=requires_v1),
    (["--cpuset-cpus", "0-4095"], "not available"),
    (["--l3-cache-schema", "L3:0=f"], "Intel RDT/CAT: l3 cache schema is not enabled"),
])
def test_update_errors_are_one_line(pyrunc, start, args, message):
    cid, _ = start(["sleep", "1000"])
    p = pyrunc("update", *args, cid)
    assert p.returncode == 1
    assert message in messages(p.stderr)
    assert "Traceback" not in messages(p.stderr)


def test_update_warns_about_kernel_memory(pyrunc, start):
    cid, _ = start(["sleep", "1000"])
    p = pyrunc("update", "--kernel-memory", "50M", cid)
    assert p.returncode == 0, p.stderr
    assert "Kernel memory settings are ignored and will be removed" in messages(p.stderr)


def test_update_of_a_stopped_or_missing_container(pyrunc, start):
    cid, _ = start(["true"])
    assert wait_for(lambda: pyrunc.state(cid)["status"] == "stopped")
    p = pyrunc("update", "--pids-limit", "5", cid)
    assert p.returncode == 1 and "container not running" in messages(p.stderr)
    p = pyrunc("update", "--pids-limit", "5", "no-such-container")
    assert p.returncode == 1 and "does not exist" in messages(p.stderr)


def test_ps_lists_the_containers_processes(pyrunc, start):
    cid, _ = start(["sh", "-c", "sleep 1000 & sleep 1000"])
    assert wait_for(lambda: len(json.loads(pyrunc("ps", "-f", "json", cid).stdout)) == 2)
    pids = json.loads(pyrunc("ps", "--format", "json", cid).stdout)
    init = pyrunc.state(cid)["pid"]
    assert init in pids
    table = pyrunc("ps", cid)
    assert table.returncode == 0, table.stderr
    lines = table.stdout.splitlines()
    assert lines[0].split()[:2] == ["UID", "PID"] and len(lines) == 3
    assert {int(line.split()[1]) for line in lines[1:]} == set(pids)
    custom = pyrunc("ps", cid, "-o", "pid,comm").stdout.splitlines()
    assert custom[0].split() == ["PID", "COMMAND"]
    assert sorted(line.split()[1] for line in custom[1:]) == ["sleep", "sleep"]
    bad = pyrunc("ps", "--format", "yaml", cid)
    assert bad.returncode == 1 and "invalid format option" in messages(bad.stderr)


def test_events_stats_once(pyrunc, start):
    cid, _ = start(["sh", "-c", "sleep 1000 & sleep 1000"],
                   {"memory": {"limit": 64 << 20}, "pids": {"limit": 50}})
    assert wait_for(lambda: len(json.loads(pyrunc("ps", "-f", "json", cid).stdout)) == 2)
    p = pyrunc("events", "--stats", cid)
    assert p.returncode == 0, p.stderr
    assert p.stdout.count("\n") == 1 and p.stdout.startswith('{"type":"stats","id":')
    event = json.loads(p.stdout)
    assert event["id"] == cid
    data = event["data"]
    assert data["pids"] == {"current": 2, "limit": 50}
    assert data["memory"]["usage"]["limit"] == 64 << 20
    assert list(data) == ["cpu", "cpuset", "memory", "pids", "blkio", "hugetlb", "intel_rdt",
                          "network_interfaces"]


def test_events_stream_reports_oom_and_ends_with_the_container(pyrunc, start, tmp_path):
    cid, _ = start(["sh", "-c", "sleep 1; head -c 300000000 /dev/zero | tail > /dev/null; "
                                "sleep 1000"],
                   {"memory": {"limit": 32 << 20, "swap": 32 << 20}})
    out = tmp_path / "events"
    with open(out, "w") as f:
        watcher = subprocess.Popen(pyrunc_command() + ["--root", pyrunc.root, "events",
                                                       "--interval", "300ms", cid],
                                   stdout=f, stderr=subprocess.PIPE, text=True)
    try:
        # 64 MiB to fill first: generous for qemu TCG under load
        assert wait_for(lambda: '"type":"oom"' in out.read_text(), timeout=60)
        assert wait_for(lambda: out.read_text().count('"type":"stats"') >= 2)
        assert pyrunc("delete", "--force", cid).returncode == 0
        assert watcher.wait(timeout=20) == 0, watcher.stderr.read()
    finally:
        if watcher.poll() is None:
            watcher.kill()
            watcher.wait()
    events = [json.loads(line) for line in out.read_text().splitlines()]
    assert {"type": "oom", "id": cid} in events
    assert all(e["id"] == cid and e["type"] in ("oom", "stats") for e in events)


@pytest.mark.parametrize("args, message", [
    (["--interval", "0s"], "duration interval must be greater than 0"),
    (["--interval", "soon"], 'time: invalid duration "soon"'),
])
def test_events_bad_interval(pyrunc, start, args, message):
    cid, _ = start(["sleep", "1000"])
    p = pyrunc("events", *args, cid)
    assert p.returncode == 1 and message in messages(p.stderr)


def test_events_of_a_stopped_container(pyrunc, start):
    cid, _ = start(["true"])
    assert wait_for(lambda: pyrunc.state(cid)["status"] == "stopped")
    p = pyrunc("events", "--stats", cid)
    assert p.returncode == 1 and f"container with id {cid} is not running" in messages(p.stderr)
