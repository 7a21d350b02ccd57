"""containerd through `ctr` (containerd -> containerd-shim-runc-v2 -> runtime),
the runtime chosen per container with `ctr run --runc-binary`."""

from __future__ import annotations

import os
import subprocess
import uuid

import pytest

from tests.e2e.cgroups import V2, cgroup_dir, our_units, proc_cgroup
from tests.e2e.daemons import CTR_NAMESPACE
from tests.e2e.env import (
    binary,
    cgroup_file,
    run,
    skip_if_cgroup_metrics_impossible,
    wait_for,
)
from tests.e2e.images import BUSYBOX_REF as IMG
from tests.e2e.tty import run_in_pty

pytestmark = pytest.mark.e2e

# The shim runs the runtime with --root /run/containerd/runc/<namespace>.
SHIM_ROOT = f"/run/containerd/runc/{CTR_NAMESPACE}"


@pytest.fixture
def cid(ctr):
    """A fresh container id; its task and container are deleted after the test."""
    c = f"e2e-{uuid.uuid4().hex[:10]}"
    yield c
    ctr.attempt("tasks", "delete", "--force", c)
    ctr.attempt("containers", "delete", c)


@pytest.fixture
def running(ctr, cid):
    """running(*cmd) -> id of a detached task running cmd (default: sleep 300)."""
    def start(*cmd: str) -> str:
        ctr.ok(*ctr.run_argv(cid, "-d", IMG, cid, *(cmd or ("sleep", "300"))))
        wait_for(lambda: ctr.task_status(cid) == "RUNNING", 20, "the task to run")
        return cid
    return start


def runtime_state(cid: str) -> subprocess.CompletedProcess:
    return run([binary(), "--root", SHIM_ROOT, "state", cid])


def test_run_rm_exit_code(ctr, cid):
    p = ctr(*ctr.run_argv(cid, "--rm", IMG, cid, "sh", "-c", "echo hi; echo err >&2; exit 3"))
    assert p.returncode == 3, p.stderr
    assert p.stdout == "hi\n"
    assert "err" in p.stderr
    assert cid not in ctr.ok("containers", "list", "-q").stdout.split()


def test_run_tty(ctr, cid):
    r = run_in_pty(ctr.argv(*ctr.run_argv(cid, "-t", "--rm", IMG, cid, "sh", "-c",
                                          "tty; exit 2")))
    assert r.returncode == 2, r
    assert "/dev/pts/0" in r.output


def test_detached_and_exec(ctr, running):
    c = running()
    p = ctr("tasks", "exec", "--exec-id", "e1", c, "sh", "-c", "echo $((2+3)); exit 4")
    assert p.returncode == 4, p.stderr
    assert p.stdout == "5\n"
    assert ctr.task_status(c) == "RUNNING"


def test_exec_tty(ctr, running):
    c = running()
    r = run_in_pty(ctr.argv("tasks", "exec", "-t", "--exec-id", "e2", c, "sh", "-c",
                            "tty; exit 6"))
    assert r.returncode == 6, r
    assert "/dev/pts/" in r.output


def test_task_ps(ctr, running):
    """`ctr task ps` -> runtime `ps --format json ID`."""
    c = running()
    pids = [line.split()[0] for line in ctr.ok("tasks", "ps", c).stdout.splitlines()[1:]]
    assert pids == [str(ctr.task_pid(c))]


def test_task_metrics(ctr, running):
    skip_if_cgroup_metrics_impossible()
    c = running()
    out = ctr.ok("tasks", "metrics", c).stdout
    metrics = dict(line.split(None, 1) for line in out.split("METRIC", 1)[1].splitlines()
                   if len(line.split()) == 2)
    metrics = {k: v.strip() for k, v in metrics.items()}
    assert metrics.get("pids.current") == "1", out
    assert int(metrics["memory.usage" if V2 else "memory.usage_in_bytes"]) > 0, out


def test_pause_resume(ctr, running):
    c = running()
    pid = ctr.task_pid(c)
    ctr.ok("tasks", "pause", c)
    assert ctr.task_status(c) == "PAUSED"
    assert cgroup_file(pid, "freezer", "freezer.state") == "FROZEN"
    ctr.ok("tasks", "resume", c)
    assert ctr.task_status(c) == "RUNNING"
    assert cgroup_file(pid, "freezer", "freezer.state") == "THAWED"


def test_kill(ctr, running):
    c = running("sh", "-c", 'trap "exit 9" TERM; while :; do sleep 1; done')
    ctr.ok("tasks", "kill", c)  # SIGTERM
    wait_for(lambda: ctr.task_status(c) == "STOPPED", 20, "the task to stop")
    # ctr reports the task's exit status as a warning.
    assert "exit code 9" in ctr.ok("tasks", "delete", c).stderr


def test_kill_all(ctr, running):
    """`ctr task kill --all` -> runtime `kill --all ID N`: every process of the
    container gets the signal, not only its init."""
    c = running("sh", "-c", 'trap "touch /tmp/init-got-it" USR1; '
                            '(trap "touch /tmp/child-got-it" USR1; while :; do sleep 1; done) & '
                            "while :; do sleep 1; done")
    pid = ctr.task_pid(c)
    wait_for(lambda: len(cgroup_file(pid, "pids", "cgroup.procs").split()) >= 3, 10,
             "the child shell")
    ctr.ok("tasks", "kill", "--all", "--signal", "SIGUSR1", c)
    tmp = f"/proc/{pid}/root/tmp"
    wait_for(lambda: os.path.exists(f"{tmp}/init-got-it") and
             os.path.exists(f"{tmp}/child-got-it"), 10, "both shells to get SIGUSR1")
    ctr.ok("tasks", "kill", "--all", "--signal", "SIGKILL", c)
    wait_for(lambda: ctr.task_status(c) == "STOPPED", 20, "the task to stop")


def test_delete(ctr, running, e2e_cgroups):
    c = running()
    pid = ctr.task_pid(c)
    memcg = cgroup_dir(pid, "memory")
    # The cgroup the suite asked for: a scope "ctr-<id>.scope" in the ctr slice
    # with systemd (the shim's SystemdCgroup, from --runc-systemd-cgroup).
    unit = f"ctr-{c}.scope"
    if e2e_cgroups.systemd:
        assert proc_cgroup(pid, "memory") == f"{e2e_cgroups.parent_dir('ctr')}/{unit}"
        assert unit in our_units()
    else:
        assert proc_cgroup(pid, "memory") == f"{e2e_cgroups.parent_dir('ctr')}/{c}"
    assert runtime_state(c).returncode == 0
    ctr.ok("tasks", "kill", "--signal", "SIGKILL", c)
    wait_for(lambda: ctr.task_status(c) == "STOPPED", 20, "the task to stop")
    assert "exit code 137" in ctr.ok("tasks", "delete", c).stderr
    ctr.ok("containers", "delete", c)
    assert c not in ctr.ok("containers", "list", "-q").stdout.split()
    # The runtime's delete removed its state and the container's cgroup.
    assert runtime_state(c).returncode != 0
    assert not os.path.exists(memcg)
    assert unit not in our_units()
