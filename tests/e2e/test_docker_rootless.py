"""Rootless Docker: Debian's dockerd-rootless.sh (docker.io's contrib) starts, as the
unprivileged user, rootlesskit (user namespace from /etc/subuid and /etc/subgid,
slirp4netns network) and in it dockerd, with its own containerd, and the runtime
under test registered with --add-runtime."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import tempfile
import time
import uuid

import pytest

from tests.e2e import images
from tests.e2e.cgroups import V2, cgroup_dir, systemd_is_init
from tests.e2e.clients import Client
from tests.e2e.env import need, remove_tree, wait_for
from tests.support import rootless
from tests.support.runtime import REPO

pytestmark = pytest.mark.e2e
SCRIPT = "/usr/share/docker.io/contrib/dockerd-rootless.sh"
NAME = "pyrunc-under-test"
IMG = "pyrunc-e2e/busybox:1"


class RootlessDocker(Client):
    def __init__(self, sock: str, user: str) -> None:
        self.sock = sock
        self.user = user
        self.env = {}

    def argv(self, *args: str) -> list[str]:
        return rootless.as_user(["docker", "-H", f"unix://{self.sock}", *args], self.user)

    def inspect(self, name: str, fmt: str) -> str:
        return self.ok("inspect", "-f", fmt, name).stdout.strip()


@pytest.fixture(scope="session")
def rdocker(runtime_binary):
    need("dockerd", "docker", "rootlesskit", "slirp4netns", "newuidmap")
    if not os.path.exists(SCRIPT):
        pytest.skip(f"{SCRIPT} missing (Debian's docker.io ships it)")
    user = subprocess.run(["bash", os.path.join(REPO, "tests", "rootless", "user.sh")],
                          check=True, capture_output=True, text=True).stdout.strip()
    pw = rootless.entry(user)
    # Where systemd runs on cgroup v2, rootless dockerd's default driver is systemd:
    # the user's instance (which a login starts) makes each container's scope.
    stack = contextlib.ExitStack()
    service = (stack.enter_context(rootless.lingering(user))
               if V2 and systemd_is_init() else "")
    xdg = rootless.runtime_dir(pw)
    top = tempfile.mkdtemp(prefix="pyrunc-e2e-rld-", dir="/tmp")
    os.chmod(top, 0o755)
    tag = uuid.uuid4().hex[:6]
    sock = os.path.join(xdg, f"docker-{tag}.sock")
    exec_root = os.path.join(xdg, f"docker-exec-{tag}")
    rootless.give(top, user)
    log = open(os.path.join(top, "dockerd.log"), "w")
    cmd = rootless.as_user(["/usr/bin/env", "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "sh", SCRIPT,
                            "--data-root", os.path.join(top, "data"), "--exec-root", exec_root,
                            "-H", f"unix://{sock}",
                            "--pidfile", os.path.join(xdg, f"docker-{tag}.pid"),
                            "--add-runtime", f"{NAME}={runtime_binary}"], user)
    daemon = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                              start_new_session=True)
    client = RootlessDocker(sock, user)
    client.user_service = service  # the user's systemd instance's cgroup, if it runs
    try:
        wait_for(lambda: daemon.poll() is not None or client("version").returncode == 0, 60,
                 "rootless dockerd to answer")
        if daemon.poll() is not None:
            with open(log.name) as f:
                pytest.fail(f"dockerd-rootless.sh exited: {f.read()[-2000:]}")
        client.ok("import", "--change", 'CMD ["/bin/sh"]', images.rootfs_tar(top), IMG)
        yield client
    finally:
        client.attempt("rm", "-f", *client("ps", "-aq").stdout.split(), timeout=60)
        # rootlesskit (the script execs it), and dockerd and containerd under it: ours
        try:
            os.killpg(daemon.pid, signal.SIGTERM)
            daemon.wait(timeout=30)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            try:
                os.killpg(daemon.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            daemon.wait(timeout=10)
        log.close()
        remove_tree(top)
        remove_tree(exec_root)
        for f in (sock, os.path.join(xdg, f"docker-{tag}.pid")):
            try:
                os.unlink(f)
            except OSError:
                pass
        stack.close()


def test_run(rdocker):
    p = rdocker("run", "--rm", "--runtime", NAME, IMG, "sh", "-c",
                "echo hello; id -u; head -1 /proc/self/uid_map; exit 3")
    assert p.returncode == 3, p.stderr
    lines = p.stdout.splitlines()
    assert lines[:2] == ["hello", "0"]
    # root in the container is the user (rootlesskit's namespace maps it)
    assert lines[2].split()[1] == str(rootless.entry(rdocker.user).pw_uid)


def test_exec_and_stop(rdocker):
    name = f"e2e-rld-{uuid.uuid4().hex[:8]}"
    rdocker.ok("run", "-d", "--name", name, "--runtime", NAME, IMG, "sh", "-c",
               'trap "exit 0" TERM; while :; do sleep 1; done')
    try:
        assert rdocker.inspect(name, "{{.HostConfig.Runtime}}") == NAME
        assert rdocker.ok("exec", name, "sh", "-c", "echo $((6*7))").stdout == "42\n"
        assert rdocker("exec", name, "sh", "-c", "exit 4").returncode == 4
        t0 = time.monotonic()
        rdocker.ok("stop", "-t", "20", name)
        assert time.monotonic() - t0 < 15  # the TERM trap ended it, no kill needed
        assert rdocker.inspect(name, "{{.State.ExitCode}}") == "0"
    finally:
        rdocker.attempt("rm", "-f", name)


def test_cgroup_driver_and_limits(rdocker):
    """systemd where it runs on cgroup v2 (the container's scope in the user's
    instance, with its memory limit); on v1 rootless dockerd uses no cgroups."""
    want = "systemd" if rdocker.user_service else "cgroupfs" if V2 else "none"
    assert rdocker.ok("info", "-f", "{{.CgroupDriver}}").stdout.strip() == want
    if not rdocker.user_service:
        return
    name = f"e2e-rld-{uuid.uuid4().hex[:8]}"
    rdocker.ok("run", "-d", "--name", name, "--runtime", NAME, "--memory", "64m", IMG,
               "sleep", "300")
    try:
        full_id = rdocker.inspect(name, "{{.Id}}")
        pid = int(rdocker.inspect(name, "{{.State.Pid}}"))
        scope = f"{rdocker.user_service}/user.slice/docker-{full_id}.scope"
        assert cgroup_dir(pid, "memory") == scope
        with open(f"{scope}/memory.max") as f:
            assert f.read().strip() == str(64 << 20)
    finally:
        rdocker.attempt("rm", "-f", name)
