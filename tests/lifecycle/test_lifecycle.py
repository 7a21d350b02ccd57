"""The OCI lifecycle through runc's CLI on real busybox containers.

These tests also pass with PYRUNC_TEST_RUNTIME=/usr/sbin/runc: they encode
runc's behaviour, not pyrunc's.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import time

import pytest

from tests.support import leaks, upstream


def test_run_returns_output_and_exit_status(rt, bundle):
    bundle.sh("echo hello; exit 3")
    p = rt("run", bundle.id, cwd=bundle.path)
    assert p.stdout == "hello\n"
    assert p.returncode == 3
    assert rt.ids() == []


def test_run_reports_death_by_signal_as_128_plus_n(rt, bundle):
    bundle.sh("echo ready; sleep 100")
    p = subprocess.Popen(rt.cmd("run", "-b", bundle.path, bundle.id), stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    assert p.stdout.readline() == "ready\n"
    rt("kill", bundle.id, "KILL", check=True)
    assert p.wait(timeout=20) == 137
    p.stdout.close()
    p.stderr.close()


def test_create_waits_for_start(rt, bundle, tmp_path):
    bundle.sh("echo started")
    out = tmp_path / "out.txt"
    with open(out, "w") as f:
        p = subprocess.run(rt.cmd("create", "--bundle", bundle.path, bundle.id), stdout=f,
                           stderr=f, timeout=30)
    assert p.returncode == 0, out.read_text()
    st = rt.state(bundle.id)
    assert st["status"] == "created"
    assert os.path.exists(f"/proc/{st['pid']}")
    time.sleep(0.2)
    assert out.read_text() == ""  # the user process has not run yet
    rt("start", bundle.id, check=True)
    rt.wait_status(bundle.id, "stopped")
    assert out.read_text() == "started\n"
    rt("delete", bundle.id, check=True)
    assert bundle.id not in rt.ids()


def test_state_document(rt, bundle):
    bundle.config["annotations"] = {"org.example.key": "value"}
    bundle.args("/bin/sleep", "100").save()
    rt("create", "-b", bundle.path, bundle.id, check=True)
    st = rt.state(bundle.id)
    assert st["id"] == bundle.id
    assert st["status"] == "created"
    assert st["bundle"] == bundle.path
    assert st["annotations"] == {"org.example.key": "value"}
    assert re.match(r"^\d+\.\d+\.\d+", st["ociVersion"])
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z$", st["created"])
    assert st["pid"] > 1 and os.path.exists(f"/proc/{st['pid']}")
    rt("start", bundle.id, check=True)
    assert rt.status(bundle.id) == "running"
    rt("kill", bundle.id, "KILL", check=True)
    rt.wait_status(bundle.id, "stopped")


def test_state_validates_against_upstream_schema(rt, bundle):
    upstream.require()
    bundle.args("/bin/sleep", "100")
    rt("create", "-b", bundle.path, bundle.id, check=True)
    upstream.validate(rt.state(bundle.id), "state-schema.json")


@pytest.mark.parametrize("sig", ["KILL", "SIGKILL", "9"])
def test_kill_accepts_names_and_numbers(rt, bundle, sig):
    bundle.args("/bin/sleep", "100")
    rt("run", "-d", "-b", bundle.path, bundle.id, check=True)
    rt("kill", bundle.id, sig, check=True)
    rt.wait_status(bundle.id, "stopped")


def test_kill_default_is_sigterm(rt, bundle):
    bundle.sh("trap 'exit 42' TERM; while true; do sleep 0.05; done")
    rt("run", "-d", "-b", bundle.path, bundle.id, check=True)
    time.sleep(0.2)
    rt("kill", bundle.id, check=True)
    rt.wait_status(bundle.id, "stopped")


def test_kill_stopped_container_fails(rt, bundle):
    bundle.args("/bin/true")
    rt("run", "-d", "-b", bundle.path, bundle.id, check=True)
    rt.wait_status(bundle.id, "stopped")
    p = rt("kill", bundle.id, "KILL")
    assert p.returncode != 0
    assert "not running" in p.stderr


def test_kill_all_signals_every_process(rt, bundle):
    bundle.sh("sleep 100 & sleep 100 & wait")
    rt("run", "-d", "-b", bundle.path, bundle.id, check=True)
    rt("kill", "--all", bundle.id, "KILL", check=True)
    rt.wait_status(bundle.id, "stopped")


def test_delete_running_needs_force(rt, bundle):
    bundle.args("/bin/sleep", "100")
    rt("run", "-d", "-b", bundle.path, bundle.id, check=True)
    p = rt("delete", bundle.id)
    assert p.returncode != 0
    assert "running" in p.stderr
    pid = rt.state(bundle.id)["pid"]
    rt("delete", "--force", bundle.id, check=True)
    assert bundle.id not in rt.ids()
    assert not os.path.exists(f"/proc/{pid}/stat") or "Z" in open(f"/proc/{pid}/stat").read()


def test_delete_force_of_missing_container_succeeds(rt):
    assert rt("delete", "--force", "no-such-container").returncode == 0


def test_delete_missing_container_says_does_not_exist(rt):
    p = rt("delete", "no-such-container")
    assert p.returncode != 0
    assert "does not exist" in p.stderr


def test_start_twice_fails(rt, bundle):
    bundle.args("/bin/sleep", "100")
    rt("create", "-b", bundle.path, bundle.id, check=True)
    rt("start", bundle.id, check=True)
    p = rt("start", bundle.id)
    assert p.returncode != 0
    assert "running" in p.stderr


def test_start_stopped_fails(rt, bundle):
    rt("run", "-d", "-b", bundle.path, bundle.id, check=True)
    rt.wait_status(bundle.id, "stopped")
    p = rt("start", bundle.id)
    assert p.returncode != 0
    assert "stopped" in p.stderr


def test_duplicate_id_is_refused_and_first_survives(rt, bundle):
    bundle.args("/bin/sleep", "100")
    rt("create", "-b", bundle.path, bundle.id, check=True)
    p = rt("create", "-b", bundle.path, bundle.id)
    assert p.returncode != 0
    assert "exists" in p.stderr
    assert rt.status(bundle.id) == "created"


def test_parallel_creates_of_one_id_exactly_one_wins(rt, bundle):
    bundle.args("/bin/sleep", "100")
    procs = [subprocess.Popen(rt.cmd("create", "-b", bundle.path, bundle.id),
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
             for _ in range(10)]
    codes = [p.wait(timeout=60) for p in procs]
    assert codes.count(0) == 1, codes
    assert rt.status(bundle.id) == "created"


def test_list_formats(rt, make_bundle):
    a, b = make_bundle("a"), make_bundle("b")
    for bd in (a, b):
        bd.args("/bin/sleep", "100")
        rt("create", "-b", bd.path, bd.id, check=True)
    rt("start", a.id, check=True)
    listed = json.loads(rt("list", "--format", "json", check=True).stdout)
    by_id = {s["id"]: s for s in listed}
    assert by_id[a.id]["status"] == "running"
    assert by_id[b.id]["status"] == "created"
    assert sorted(rt.ids()) == sorted([a.id, b.id])
    table = rt("list", check=True).stdout.splitlines()
    assert table[0].split()[:3] == ["ID", "PID", "STATUS"]
    assert any(line.split()[0] == b.id and "created" in line for line in table[1:])


def test_list_json_of_empty_root(rt):
    p = rt("list", "--format", "json", check=True)
    assert json.loads(p.stdout) in (None, [])


def test_pid_file(rt, bundle, tmp_path):
    bundle.args("/bin/sleep", "100")
    pid_file = tmp_path / "init.pid"
    rt("create", "-b", bundle.path, "--pid-file", str(pid_file), bundle.id, check=True)
    assert int(pid_file.read_text()) == rt.state(bundle.id)["pid"]


def test_single_dash_long_flags(rt, bundle):
    bundle.args("/bin/sleep", "100")
    rt("create", "-bundle", bundle.path, bundle.id, check=True)
    assert rt.status(bundle.id) == "created"


def test_run_detach_then_exit(rt, bundle):
    bundle.args("/bin/sleep", "0.2")
    rt("run", "-d", "-b", bundle.path, bundle.id, check=True)
    assert rt.status(bundle.id) in ("running", "stopped")
    rt.wait_status(bundle.id, "stopped")


def test_run_forwards_sigterm(rt, bundle):
    bundle.sh("trap 'exit 7' TERM; echo ready; while true; do sleep 0.05; done")
    p = subprocess.Popen(rt.cmd("run", "-b", bundle.path, bundle.id), stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    assert p.stdout.readline() == "ready\n"
    p.terminate()
    assert p.wait(timeout=20) == 7
    p.stdout.close()
    p.stderr.close()


def test_new_namespaces_differ_from_host(rt, bundle):
    bundle.args("/bin/sleep", "100")
    rt("run", "-d", "-b", bundle.path, bundle.id, check=True)
    pid = rt.state(bundle.id)["pid"]
    asked = {n["type"] for n in bundle.linux["namespaces"]}  # rootless: no network
    for ns, kind in (("pid", "pid"), ("net", "network"), ("mnt", "mount"), ("ipc", "ipc"),
                     ("uts", "uts")):
        if kind in asked:
            assert os.readlink(f"/proc/{pid}/ns/{ns}") != os.readlink(f"/proc/self/ns/{ns}"), ns


def test_hostname_cwd_env_and_loopback(rt, bundle):
    bundle.config["hostname"] = "box"
    bundle.process["cwd"] = "/tmp"
    bundle.process["env"] = ["PATH=/bin", "FOO=bar"]
    bundle.sh("hostname; pwd; echo $FOO; cat /sys/class/net/lo/operstate").save()
    p = rt("run", "-b", bundle.path, bundle.id)
    assert p.returncode == 0, p.stderr
    assert p.stdout.split() == ["box", "/tmp", "bar", "unknown"]


def test_joining_a_namespace_by_path(rt, make_bundle):
    host = make_bundle("host")
    host.args("/bin/sleep", "100")
    rt("run", "-d", "-b", host.path, host.id, check=True)
    hpid = rt.state(host.id)["pid"]
    guest = make_bundle("guest")
    for ns in guest.linux["namespaces"]:
        if ns["type"] in ("network", "uts"):
            ns["path"] = f"/proc/{hpid}/ns/{'net' if ns['type'] == 'network' else 'uts'}"
        if ns["type"] == "user":  # rootless: the others belong to the host's user namespace
            ns["path"] = f"/proc/{hpid}/ns/user"
            guest.linux.pop("uidMappings")
            guest.linux.pop("gidMappings")
    guest.args("/bin/sleep", "100").save()
    rt("run", "-d", "-b", guest.path, guest.id, check=True)
    gpid = rt.state(guest.id)["pid"]
    assert os.readlink(f"/proc/{gpid}/ns/net") == os.readlink(f"/proc/{hpid}/ns/net")
    assert os.readlink(f"/proc/{gpid}/ns/uts") == os.readlink(f"/proc/{hpid}/ns/uts")
    assert os.readlink(f"/proc/{gpid}/ns/pid") != os.readlink(f"/proc/{hpid}/ns/pid")


def test_delete_removes_cgroups(rt, bundle, cgroup_parent):
    bundle.args("/bin/sleep", "100")
    rt("run", "-d", "-b", bundle.path, bundle.id, check=True)
    assert any(bundle.id in d for d in leaks.cgroup_dirs(cgroup_parent))
    rt("delete", "--force", bundle.id, check=True)
    assert not any(bundle.id in d for d in leaks.cgroup_dirs(cgroup_parent))


@pytest.mark.parametrize("pid_ns", ["own", "host"])
def test_delete_of_stopped_container_leaves_no_process(any_rt, bundle, cgroup_parent, pid_ns):
    """In the host's pid namespace a process outlives the init, and delete kills it
    (runc's destroy); in a pid namespace of its own the kernel did when the init died."""
    if pid_ns == "host":
        bundle.linux["namespaces"] = [n for n in bundle.linux["namespaces"]
                                      if n["type"] != "pid"]
    seconds = str(100000 + os.getpid() % 50000)  # a command line no other test has
    bundle.sh(f"sleep {seconds} & sleep 0.3")
    any_rt("run", "-d", "-b", bundle.path, bundle.id, check=True)
    any_rt.wait_status(bundle.id, "stopped")
    left = leaks.processes_mentioning(f"sleep\0{seconds}\0")
    assert bool(left) == (pid_ns == "host")
    try:
        any_rt("delete", bundle.id, check=True)
        deadline = time.monotonic() + 5
        while left and time.monotonic() < deadline:
            time.sleep(0.05)
            left = leaks.processes_mentioning(f"sleep\0{seconds}\0")
        assert left == []
        assert not any(bundle.id in d for d in leaks.cgroup_dirs(cgroup_parent))
    finally:
        for pid in left:
            os.kill(pid, 9)


def test_signal_dispositions_are_default_in_the_container(rt, bundle):
    # Python ignores SIGPIPE; ignored dispositions survive execve unless reset.
    bundle.args("/bin/grep", "-E", "SigIgn|SigBlk", "/proc/self/status")
    p = rt("run", "-b", bundle.path, bundle.id)
    assert p.returncode == 0, p.stderr
    for line in p.stdout.splitlines():
        assert line.split()[1] == "0000000000000000", line
