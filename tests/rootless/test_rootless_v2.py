"""Rootless on a systemd + cgroup v2 host (the guest, tests/guest): the user's systemd
session (lingering, so user@<uid>.service runs without a login) delegates its
subtree to the user.  The runtime runs in a scope of that session
(`systemd-run --user --scope`, as rootless podman does), and a cgroupsPath inside the
delegated subtree gives the container cgroups, limits, pause and ps.  Against pyrunc
and runc."""

from __future__ import annotations

import os
import subprocess
import time

import pytest

from tests.rootless.conftest import AsUser
from tests.support import rootless

pytestmark = [
    pytest.mark.guest,
    pytest.mark.skipif(os.environ.get("PYRUNC_IN_GUEST") != "1"
                       or not os.path.exists("/sys/fs/cgroup/cgroup.controllers"),
                       reason="needs the systemd + cgroup v2 guest (tests/guest)"),
]


@pytest.fixture(scope="module")
def session(user):
    """The user's systemd instance, started by lingering; stopped again after."""
    uid = rootless.entry(user).pw_uid
    subprocess.run(["loginctl", "enable-linger", user], check=True)
    service = f"/sys/fs/cgroup/user.slice/user-{uid}.slice/user@{uid}.service"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if os.path.exists(f"/run/user/{uid}/bus") and os.path.isdir(service):
            break
        time.sleep(0.5)
    else:
        pytest.fail("user@.service did not start (loginctl enable-linger)")
    yield service
    subprocess.run(["loginctl", "disable-linger", user], check=False)


class InScope(AsUser):
    """The runtime as the user, in a transient scope of the user's systemd."""

    def wrap(self, cmd: list[str]) -> list[str]:
        uid = rootless.entry(self.user).pw_uid
        return rootless.as_user(["/usr/bin/env", f"DBUS_SESSION_BUS_ADDRESS=unix:path=/run/user/"
                                 f"{uid}/bus", "systemd-run", "--user", "--scope", "--quiet",
                                 "--collect", *cmd], self.user)

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
