"""Rootless on a systemd + cgroup v2 host (the guest, tests/guest): the user's systemd
session (lingering, so user@<uid>.service runs without a login) delegates its
subtree to the user.  The runtime runs in a scope of that session
(`systemd-run --user --scope`, as rootless podman does), and a cgroupsPath inside the
delegated subtree gives the container cgroups, limits, pause and ps.  Against pyrunc
and runc."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.rootless.conftest import AsUser
from tests.support import rootless
from tests.support.runtime import REPO

pytestmark = [
    pytest.mark.guest,
    pytest.mark.skipif(os.environ.get("PYRUNC_IN_GUEST") != "1"
                       or not os.path.exists("/sys/fs/cgroup/cgroup.controllers"),
                       reason="needs the systemd + cgroup v2 guest (tests/guest)"),
]


@pytest.fixture(scope="module")
def session(user):
    """The user's systemd instance, started by lingering; stopped again after."""
    with rootless.lingering(user) as service:
        yield service


def on_user_bus(user: str, cmd: list[str]) -> list[str]:
    """cmd as the user, with its session bus named as a login's environment does."""
    uid = rootless.entry(user).pw_uid
    return rootless.as_user(["/usr/bin/env", f"DBUS_SESSION_BUS_ADDRESS=unix:path=/run/user/"
                             f"{uid}/bus", *cmd], user)


def in_user_scope(user: str, cmd: list[str]) -> list[str]:
    """cmd as the user in a transient scope of its systemd (as rootless podman runs)."""
    return on_user_bus(user, ["systemd-run", "--user", "--scope", "--quiet", "--collect", *cmd])


class InScope(AsUser):
    """The runtime as the user, in a transient scope of the user's systemd."""

    def wrap(self, cmd: list[str]) -> list[str]:
        return in_user_scope(self.user, cmd)

    def cmd(self, *args: str) -> list[str]:
        return self.wrap([self.path, "--root", self.root, *args])


@pytest.fixture(params=["/usr/sbin/runc", None], ids=["runc", "pyrunc"])
def srt(request, user, home, session):
    from tests.support.runtime import binary

    r = InScope(os.path.join(home, "state"), request.param or binary(), user)
    yield r
    r.cleanup()


def test_limits_pause_ps_in_the_delegated_subtree(srt, ubundle, session):
    controllers = open(os.path.join(session, "cgroup.controllers")).read().split()
    assert "memory" in controllers and "pids" in controllers, controllers
    rel = session[len("/sys/fs/cgroup"):]
    ubundle.config["linux"]["cgroupsPath"] = f"{rel}/pyrunc-rl/{ubundle.id}"
    ubundle.config["linux"]["resources"] = {"memory": {"limit": 64 << 20},
                                            "pids": {"limit": 32}}
    ubundle.sh("sleep 100")
    srt("run", "-d", "-b", ubundle.path, ubundle.id, check=True)
    cg = os.path.join(session, "pyrunc-rl", ubundle.id)
    try:
        pid = srt.state(ubundle.id)["pid"]
        assert open(os.path.join(cg, "memory.max")).read().strip() == str(64 << 20)
        assert open(os.path.join(cg, "pids.max")).read().strip() == "32"
        assert str(pid) in open(os.path.join(cg, "cgroup.procs")).read().split()
        assert str(pid) in srt("ps", ubundle.id, check=True).stdout
        srt("pause", ubundle.id, check=True)
        assert srt.status(ubundle.id) == "paused"
        srt("resume", ubundle.id, check=True)
        assert srt.status(ubundle.id) == "running"
    finally:
        srt("delete", "-f", ubundle.id, check=True)
    assert not os.path.exists(cg)


def test_cgroups_path_outside_the_delegated_subtree(srt, ubundle, session):
    """Nothing is made where the user may not write (both runtimes then go on without
    that cgroup, in the guest: the run's status is not what is checked)."""
    ubundle.config["linux"]["cgroupsPath"] = f"/system.slice/pyrunc-rl-{ubundle.id}"
    srt("run", "-b", ubundle.path, ubundle.id)
    assert not os.path.exists(f"/sys/fs/cgroup/system.slice/pyrunc-rl-{ubundle.id}")
    assert not os.path.exists(os.path.join(srt.root, ubundle.id))


def test_no_cgroups_path_runs_without_a_cgroup_of_its_own(srt, ubundle, session):
    """runc's rule on v2 too: no cgroupsPath, the cgroup it cannot make is skipped."""
    ubundle.sh("cat /proc/self/cgroup")
    p = srt("run", "-b", ubundle.path, ubundle.id)
    assert p.returncode == 0, p.stderr


class UserSystemd(AsUser):
    """The runtime as the user with --systemd-cgroup: the user's systemd instance,
    reached over its session bus ($XDG_RUNTIME_DIR/bus), makes the container's scope."""

    def cmd(self, *args: str) -> list[str]:
        return super().cmd("--systemd-cgroup", *args)

    def systemctl(self, *args: str) -> str:
        p = subprocess.run(on_user_bus(self.user, ["systemctl", "--user", "--no-pager", *args]),
                           capture_output=True, text=True)
        return p.stdout


@pytest.fixture(params=["/usr/sbin/runc", None], ids=["runc", "pyrunc"])
def ust(request, user, home, session):
    from tests.support.runtime import binary

    r = UserSystemd(os.path.join(home, "state"), request.param or binary(), user)
    yield r
    r.cleanup()


def _our_units(ust, unit: str) -> str:
    return ust.systemctl("list-units", "--all", "--plain", "--no-legend", unit).strip()


def test_systemd_cgroup_as_the_user(ust, ubundle, session):
    """The scope in the user's manager (user.slice under user@<uid>.service), the
    limits as unit properties and in the files, ps, pause, update; delete stops it."""
    controllers = open(os.path.join(session, "cgroup.controllers")).read().split()
    assert "memory" in controllers and "pids" in controllers, controllers
    ubundle.config["linux"]["cgroupsPath"] = f"user.slice:pyrunc-rl:{ubundle.id}"
    ubundle.config["linux"]["resources"] = {"memory": {"limit": 64 << 20},
                                            "pids": {"limit": 32}}
    ubundle.sh("sleep 100")
    unit = f"pyrunc-rl-{ubundle.id}.scope"
    cg = os.path.join(session, "user.slice", unit)
    p = ust("run", "-d", "-b", ubundle.path, ubundle.id)
    try:
        assert p.returncode == 0, p.stderr
        pid = ust.state(ubundle.id)["pid"]
        assert str(pid) in open(os.path.join(cg, "cgroup.procs")).read().split()
        assert open(os.path.join(cg, "memory.max")).read().strip() == str(64 << 20)
        assert open(os.path.join(cg, "pids.max")).read().strip() == "32"
        shown = ust.systemctl("show", "-p", "MemoryMax", "-p", "TasksMax", "-p", "ActiveState",
                              unit)
        assert f"MemoryMax={64 << 20}" in shown and "TasksMax=32" in shown, shown
        assert "ActiveState=active" in shown, shown
        assert str(pid) in ust("ps", ubundle.id, check=True).stdout
        p = ust("exec", ubundle.id, "echo", "in")
        assert p.returncode == 0 and p.stdout == "in\n", p.stderr
        ust("pause", ubundle.id, check=True)
        assert ust.status(ubundle.id) == "paused"
        ust("resume", ubundle.id, check=True)
        assert ust.status(ubundle.id) == "running"
        ust("update", "--pids-limit", "40", ubundle.id, check=True)
        assert open(os.path.join(cg, "pids.max")).read().strip() == "40"
        assert "TasksMax=40" in ust.systemctl("show", "-p", "TasksMax", unit)
    finally:
        ust("delete", "-f", ubundle.id)
    assert not os.path.exists(cg)
    assert _our_units(ust, unit) == ""


def test_systemd_cgroup_as_the_user_default_path(ust, ubundle, session):
    """No cgroupsPath: runc's ":runc:<id>" in the user's user.slice."""
    ubundle.sh("sleep 100")
    p = ust("run", "-d", "-b", ubundle.path, ubundle.id)
    try:
        assert p.returncode == 0, p.stderr
        pid = ust.state(ubundle.id)["pid"]
        uid = rootless.entry(ust.user).pw_uid
        assert open(f"/proc/{pid}/cgroup").read().strip() == (
            f"0::/user.slice/user-{uid}.slice/user@{uid}.service/user.slice/"
            f"runc-{ubundle.id}.scope")
    finally:
        ust("delete", "-f", ubundle.id)
    assert _our_units(ust, f"runc-{ubundle.id}.scope") == ""


def test_systemd_cgroup_as_the_user_without_a_bus(ust, ubundle, session, home):
    """No session bus to find: one line, a failed exit, nothing left behind."""
    empty = os.path.join(home, "xdg")
    os.mkdir(empty, 0o700)
    rootless.give(empty, ust.user)
    cmd = [a if not a.startswith("XDG_RUNTIME_DIR=") else f"XDG_RUNTIME_DIR={empty}"
           for a in ust.cmd("run", "-b", ubundle.path, ubundle.id)]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert p.returncode != 0
    assert "Traceback" not in p.stderr
    assert not os.path.exists(os.path.join(ust.root, ubundle.id))
    assert _our_units(ust, f"runc-{ubundle.id}.scope") == ""
    assert not any(ubundle.id in d for d in os.listdir(os.path.join(session, "user.slice")))


def _decides(prefix: list[str]) -> str:
    """What `--rootless auto` decides in a user namespace mapping root to the caller
    (as rootless podman runs the runtime): with --systemd-cgroup, then without."""
    code = ("from runtime.rootless import rootless_cgroups as r; "
            "print(r('auto', True), r('auto', False))")
    p = subprocess.run([*prefix, "unshare", "--user", "--map-root-user", sys.executable, "-c",
                        code], capture_output=True, text=True, cwd=REPO, timeout=120)
    assert p.returncode == 0, p.stderr
    return p.stdout.strip()


def test_root_in_a_user_namespace_is_rootless_with_a_users_bus(user, session):
    """runc's rule (shouldUseRootlessCgroupManager): with --systemd-cgroup, root in a
    user namespace is rootless when the user bus it finds belongs to a user (runc asks
    `busctl --user status` for its OwnerUID), wherever the caller runs; with no user
    bus to find (a system service) it keeps PID 1's manager."""
    assert _decides(in_user_scope(user, [])) == "True True"
    # Outside any session of the user's (this test's cgroup), as rootless dockerd
    # started here: $XDG_RUNTIME_DIR/bus still says whose bus it is.
    assert _decides(rootless.as_user([], user)) == "True True"
    service = ["systemd-run", "--quiet", "--collect", "--pipe", "--wait",
               "-p", f"WorkingDirectory={REPO}"]
    assert _decides(service) == "False True"
