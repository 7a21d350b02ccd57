"""podman (podman + conmon -> runtime), the runtime registered in
containers.conf's [engine.runtimes] and chosen with `--runtime pyrunc`.
podman and conmon pass no --root: the runtime's default root is used."""

from __future__ import annotations

import os
import uuid

import pytest

from tests.e2e.cgroups import V2
from tests.e2e.env import cgroup_file, default_root, wait_for
from tests.e2e.images import BUSYBOX_REF as IMG
from tests.e2e.scenarios import (
    cgroup_follows_driver,
    stop_kills_after_timeout,
    stop_sends_sigterm,
)
from tests.e2e.tty import run_in_pty

pytestmark = pytest.mark.e2e


def name() -> str:
    return f"e2e-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def started(podman):
    """started(*run_args, cmd=...) -> name of a detached container; removed after."""
    names: list[str] = []

    def start(*args: str, cmd: tuple[str, ...] = ("sleep", "300")) -> str:
        n = name()
        names.append(n)
        podman.ok(*podman.run_argv("-d", "--name", n, *args, IMG, *cmd))
        return n

    yield start
    if names:
        podman.attempt("rm", "-f", "-t", "0", *names)


def test_run_output_and_exit_code(podman):
    p = podman(*podman.run_argv("--rm", IMG, "sh", "-c", "echo hello; exit 5"))
    assert p.returncode == 5, p.stderr
    assert p.stdout == "hello\n"


def test_uses_default_root(podman, started):
    c = started()
    full_id = podman.inspect(c, "{{.Id}}")
    assert os.path.isdir(os.path.join(default_root(), full_id))


def test_detached_and_exec(podman, started):
    c = started()
    assert podman.ok("exec", c, "sh", "-c", "echo $((3*3))").stdout == "9\n"
    assert podman("exec", c, "sh", "-c", "exit 2").returncode == 2


def test_exec_tty(podman, started):
    c = started()
    r = run_in_pty(podman.argv("exec", "-it", c, "sh", "-c", "tty; exit 3"), env=podman.env)
    assert r.returncode == 3, r
    assert "/dev/pts/" in r.output


def test_run_tty(podman):
    n = name()
    try:
        r = run_in_pty(podman.argv(*podman.run_argv("--rm", "-it", "--name", n, IMG, "sh", "-c",
                                                     "tty; exit 4")),
                       env=podman.env)
    finally:
        podman.attempt("rm", "-f", "-t", "0", n)  # left behind if the client had to be killed
    assert r.returncode == 4, r
    assert "/dev/pts/0" in r.output


def test_top(podman, started):
    c = started()
    assert "sleep 300" in podman.ok("top", c).stdout


def test_pause_unpause(podman, started):
    c = started()
    pid = podman.pid(c)
    podman.ok("pause", c)
    assert podman.inspect(c, "{{.State.Status}}") == "paused"
    assert cgroup_file(pid, "freezer", "freezer.state") == "FROZEN"
    podman.ok("unpause", c)
    assert podman.inspect(c, "{{.State.Status}}") == "running"
    assert cgroup_file(pid, "freezer", "freezer.state") == "THAWED"


def test_update(podman, started):
    """`podman update` -> runtime `update --resources=FILE ID`."""
    c = started()
    pid = podman.pid(c)
    podman.ok("update", "--memory", "64m", "--cpus", "0.5", c)
    assert cgroup_file(pid, "memory", "memory.limit_in_bytes") == str(64 << 20)
    assert cgroup_file(pid, "cpu", "cpu.cfs_quota_us") == "50000"


def test_cgroup_manager(podman, e2e_cgroups):
    """podman uses the suite's cgroup manager: with systemd the container is in
    `libpod-<id>.scope` in the --cgroup-parent slice (the runtime got
    --systemd-cgroup and "slice:libpod:<id>"); with cgroupfs in
    <cgroup-parent>/libpod-<id>.  Nothing is left after `podman rm -f`."""
    info = podman.ok("info", "--format", "{{.Host.CgroupManager}} {{.Host.CgroupsVersion}}")
    assert info.stdout.split() == [e2e_cgroups.driver, "v2" if V2 else "v1"]
    c = name()
    podman.ok(*podman.run_argv("-d", "--name", c, IMG, "sleep", "300"))
    cgroup_follows_driver(podman, e2e_cgroups, c, parent_of="podman", scope="libpod",
                          cgroupfs_leaf="libpod-", rm=("rm", "-f", "-t", "0"))


def test_stop_sends_sigterm(podman, started):
    stop_sends_sigterm(podman, started)


def test_stop_kills_after_timeout(podman, started):
    stop_kills_after_timeout(podman, started)


def test_rm_force_running(podman, started):
    c = started()
    pid = podman.pid(c)
    full_id = podman.inspect(c, "{{.Id}}")
    podman.ok("rm", "-f", "-t", "0", c)
    assert podman("ps", "-aq", "--filter", f"name={c}").stdout.strip() == ""
    wait_for(lambda: not os.path.exists(f"/proc/{pid}"), 10, "the init to be gone")
    assert not os.path.exists(os.path.join(default_root(), full_id))


def test_read_only_cap_drop_user(podman):
    p = podman(*podman.run_argv("--rm", "--read-only", "--cap-drop", "ALL",
                                "--user", "65534:65534", IMG, "sh", "-c",
                                "id -u; grep CapEff /proc/self/status; touch /file"))
    assert p.returncode != 0
    lines = p.stdout.splitlines()
    assert len(lines) == 2, f"the container did not run: {p.stderr.strip()}"
    assert lines[0] == "65534"
    assert lines[1].split()[1] == "0000000000000000"
    assert "Read-only file system" in p.stderr
