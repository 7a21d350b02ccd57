"""Rootless podman: an unprivileged user (tests/rootless/user.sh) runs podman with the
runtime under test registered in its containers.conf.  podman makes the user
namespace itself (newuidmap/newgidmap from /etc/subuid and /etc/subgid) and runs
conmon and the runtime in it; the runtime's default root is then
$XDG_RUNTIME_DIR/<runtime>.  Networking is podman's own (slirp4netns, with
rootlessport for published ports).  On this cgroup v1 host the containers get no
cgroups (cgroup_manager cgroupfs, nothing the user may write)."""

from __future__ import annotations

import os
import shutil
import signal
import stat
import subprocess
import tempfile
import urllib.request
import uuid

import pytest

from tests.e2e import images
from tests.e2e.cgroups import V2, cgroup_dir, systemd_is_init
from tests.e2e.clients import Client
from tests.e2e.env import attempt, free_port, need, wait_for
from tests.e2e.scenarios import stop_kills_after_timeout, stop_sends_sigterm
from tests.support import rootless
from tests.support.runtime import REPO

pytestmark = pytest.mark.e2e
IMG = "localhost/pyrunc-e2e/busybox:1"
NAME = "pyrunc-under-test"


class RootlessPodman(Client):
    def __init__(self, workdir: str, runtime_binary: str, user: str) -> None:
        self.user = user
        self.pw = rootless.entry(user)
        self.xdg = rootless.runtime_dir(self.pw)
        self.graphroot = os.path.join(workdir, "storage")
        self.conf = os.path.join(workdir, "containers.conf")
        self.storage_conf = os.path.join(workdir, "storage.conf")
        self.runtime_name = os.path.basename(runtime_binary)
        # Without slirp4netns (or pasta) podman has no rootless network: none then.
        netns = "" if shutil.which("slirp4netns") else 'netns = "none"\n'
        with open(self.conf, "w") as f:
            f.write(f"""\
[containers]
log_driver = "k8s-file"
{netns}
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "{workdir}/events.log"
runtime = "{NAME}"

[engine.runtimes]
{NAME} = ["{runtime_binary}"]
""")
        with open(self.storage_conf, "w") as f:
            f.write(f'[storage]\ndriver = "vfs"\ngraphroot = "{self.graphroot}"\n'
                    f'runroot = "{self.xdg}/containers"\n')
        rootless.give(workdir, user)
        self.env = {}

    def argv(self, *args: str) -> list[str]:
        return rootless.as_user(["/usr/bin/env", f"CONTAINERS_CONF={self.conf}",
                                 f"CONTAINERS_STORAGE_CONF={self.storage_conf}",
                                 "podman", *args], self.user)

    def inspect(self, name: str, fmt: str) -> str:
        return self.ok("inspect", "-f", fmt, name).stdout.strip()

    @property
    def default_root(self) -> str:
        return os.path.join(self.xdg, self.runtime_name)


@pytest.fixture(scope="session")
def rpodman(runtime_binary):
    need("podman", "conmon", "newuidmap")
    user = subprocess.run(["bash", os.path.join(REPO, "tests", "rootless", "user.sh")],
                          check=True, capture_output=True, text=True).stdout.strip()
    workdir = tempfile.mkdtemp(prefix="pyrunc-e2e-rl-", dir="/tmp")
    os.chmod(workdir, 0o755)
    tar = images.rootfs_tar(workdir)
    client = RootlessPodman(workdir, runtime_binary, user)
    pause_pid = os.path.join(client.xdg, "libpod", "tmp", "pause.pid")
    had_pause = os.path.exists(pause_pid)
    try:
        client.ok("import", "--change", 'CMD ["/bin/sh"]', tar, IMG)
        yield client
    finally:
        attempt(client.argv("rm", "-af", "-t", "0"), timeout=120)
        attempt(client.argv("system", "reset", "--force"), timeout=120)
        if not had_pause and os.path.exists(pause_pid):
            # podman's pause process, which holds its user namespace: ours to end
            try:
                with open(pause_pid) as f:
                    os.kill(int(f.read().strip()), signal.SIGKILL)
            except (OSError, ValueError):
                pass
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture
def started(rpodman):
    names: list[str] = []

    def start(*args: str, cmd: tuple[str, ...] = ("sleep", "300")) -> str:
        n = f"e2e-rl-{uuid.uuid4().hex[:10]}"
        names.append(n)
        rpodman.ok("run", "-d", "--name", n, *args, IMG, *cmd)
        return n

    yield start
    if names:
        rpodman.attempt("rm", "-f", "-t", "0", *names)


def test_run_output_and_exit_code(rpodman):
    p = rpodman("run", "--rm", IMG, "sh", "-c", "echo hello; id -u; exit 5")
    assert p.returncode == 5, p.stderr
    assert p.stdout == "hello\n0\n"


def test_runs_in_podmans_user_namespace_with_the_users_ranges(rpodman, started):
    c = started()
    pid = int(rpodman.inspect(c, "{{.State.Pid}}"))
    with open(f"/proc/{pid}/uid_map") as f:
        lines = [line.split() for line in f]
    assert lines[0] == ["0", str(rpodman.pw.pw_uid), "1"]
    assert lines[1][1] == str(rootless.subid_start("/etc/subuid", rpodman.user))
    assert os.stat(f"/proc/{pid}").st_uid == rpodman.pw.pw_uid


def test_state_in_the_users_runtime_dir(rpodman, started):
    c = started()
    full_id = rpodman.inspect(c, "{{.Id}}")
    state = os.path.join(rpodman.default_root, full_id)
    assert os.path.isdir(state)
    for d, _, files in os.walk(rpodman.default_root):
        for name in [d, *(os.path.join(d, f) for f in files)]:
            assert os.lstat(name).st_uid == rpodman.pw.pw_uid, name


def test_detached_and_exec(rpodman, started):
    c = started()
    assert rpodman.ok("exec", c, "sh", "-c", "echo $((3*3))").stdout == "9\n"
    assert rpodman("exec", c, "sh", "-c", "exit 2").returncode == 2
    assert rpodman.ok("exec", "--user", "65534", c, "id", "-u").stdout == "65534\n"


def test_stop_sends_sigterm(rpodman, started):
    stop_sends_sigterm(rpodman, started)


def test_stop_kills_after_timeout(rpodman, started):
    stop_kills_after_timeout(rpodman, started)


def test_rm_force_running(rpodman, started):
    c = started()
    pid = int(rpodman.inspect(c, "{{.State.Pid}}"))
    full_id = rpodman.inspect(c, "{{.Id}}")
    rpodman.ok("rm", "-f", "-t", "0", c)
    assert rpodman("ps", "-aq", "--filter", f"name={c}").stdout.strip() == ""
    wait_for(lambda: not os.path.exists(f"/proc/{pid}"), 10, "the init to be gone")
    assert not os.path.exists(os.path.join(rpodman.default_root, full_id))


def test_read_only_cap_drop_user(rpodman):
    p = rpodman("run", "--rm", "--read-only", "--cap-drop", "ALL", "--user", "65534:65534",
                IMG, "sh", "-c", "id -u; grep CapEff /proc/self/status; touch /file")
    assert p.returncode != 0
    lines = p.stdout.splitlines()
    assert len(lines) == 2, f"the container did not run: {p.stderr.strip()}"
    assert lines[0] == "65534"
    assert lines[1].split()[1] == "0000000000000000"
    assert "Read-only file system" in p.stderr


def test_published_port_through_podmans_network(rpodman, started):
    """slirp4netns gives the container a network namespace of its own; rootlessport
    forwards the host's port to it."""
    need("slirp4netns")
    tun = os.stat("/dev/net/tun")
    if not tun.st_mode & stat.S_IWOTH:
        pytest.skip("/dev/net/tun is not 0666 (udev's default; tests/e2e/setup.sh sets it): "
                    "slirp4netns cannot open it as the user")
    port = free_port()
    c = started("-p", f"127.0.0.1:{port}:8080",
                cmd=("sh", "-c", "echo hello-rootless > /tmp/index.html; "
                                 "exec httpd -f -p 8080 -h /tmp"))

    def fetch() -> str:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/index.html", timeout=2) as r:
                return r.read().decode()
        except OSError:
            return ""

    wait_for(lambda: fetch() == "hello-rootless\n", 20, "the page through the published port")
    pid = int(rpodman.inspect(c, "{{.State.Pid}}"))
    assert os.readlink(f"/proc/{pid}/ns/net") != os.readlink("/proc/self/ns/net")


@pytest.fixture
def user_manager(rpodman):
    """The user's systemd instance, where systemd is init on cgroup v2: rootless
    limits need its delegated subtree."""
    if not (V2 and systemd_is_init()):
        pytest.skip("rootless limits need systemd's delegated subtree on cgroup v2 "
                    "(the guest, tests/guest); this host has neither")
    with rootless.lingering(rpodman.user) as service:
        yield service


def test_systemd_cgroup_manager_with_limits(rpodman, user_manager):
    """podman's cgroup_manager systemd as the user: the runtime gets --systemd-cgroup
    and "user.slice:libpod:<id>", and the user's manager makes the scope, with the
    limits that its delegation allows."""
    n = f"e2e-rl-{uuid.uuid4().hex[:10]}"
    rpodman.ok("--cgroup-manager", "systemd", "run", "-d", "--name", n, "--memory", "64m",
               "--pids-limit", "32", IMG, "sleep", "300")
    scope = ""
    try:
        full_id = rpodman.inspect(n, "{{.Id}}")
        pid = int(rpodman.inspect(n, "{{.State.Pid}}"))
        scope = f"{user_manager}/user.slice/libpod-{full_id}.scope"
        assert cgroup_dir(pid, "memory") == scope
        with open(f"{scope}/memory.max") as f:
            assert f.read().strip() == str(64 << 20)
        with open(f"{scope}/pids.max") as f:
            assert f.read().strip() == "32"
        assert rpodman.ok("exec", n, "echo", "in").stdout == "in\n"
    finally:
        rpodman.attempt("--cgroup-manager", "systemd", "rm", "-f", "-t", "0", n)
    wait_for(lambda: not scope or not os.path.exists(scope), 20, "the scope to go")
