"""Docker (dockerd -> containerd -> containerd-shim-runc-v2 -> runtime) with
`--runtime pyrunc`, the runtime registered in daemon.json's `runtimes`.
Each test names the runtime calls it exercises (see
shared notes on the client CLI surface)."""

from __future__ import annotations

import json
import os
import urllib.request
import uuid

import pytest

from tests.e2e.cgroups import V2
from tests.e2e.env import (
    cgroup_file,
    free_port,
    skip_if_cgroup_metrics_impossible,
    wait_for,
)
from tests.e2e.images import BUSYBOX_REF as IMG
from tests.e2e.scenarios import (
    cgroup_follows_driver,
    stop_kills_after_timeout,
    stop_sends_sigterm,
    wait_log,
)
from tests.e2e.tty import run_in_pty

pytestmark = pytest.mark.e2e

SLEEPER = ("sleep", "300")


def name() -> str:
    return f"e2e-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def started(docker):
    """started(*run_args, cmd=SLEEPER) -> name of a detached container; removed after."""
    names: list[str] = []

    def start(*args: str, cmd: tuple[str, ...] = SLEEPER) -> str:
        n = name()
        names.append(n)
        docker.ok(*docker.run_argv("-d", "--name", n, *args, IMG, *cmd))
        return n

    yield start
    if names:
        docker.attempt("rm", "-f", *names)


def cap_eff(output: str) -> int:
    for line in output.splitlines():
        if line.startswith("CapEff:"):
            return int(line.split()[1], 16)
    raise AssertionError(f"no CapEff in {output!r}")


# -- create/start/delete, stdio ------------------------------------------------

def test_run_rm_output_and_exit_code(docker):
    p = docker(*docker.run_argv("--rm", IMG, "sh", "-c", "echo hello; echo oops >&2; exit 7"))
    assert p.returncode == 7, p.stderr
    assert p.stdout == "hello\n"
    assert "oops" in p.stderr


def test_stdin_piped(docker):
    p = docker.ok(*docker.run_argv("--rm", "-i", IMG, "tr", "a-z", "A-Z"),
                  input="piped through\n")
    assert p.stdout == "PIPED THROUGH\n"


def test_detached_then_exec(docker, started):
    c = started()
    assert docker.ok("exec", c, "sh", "-c", "echo $((6*7))").stdout == "42\n"
    assert docker("exec", c, "sh", "-c", "exit 5").returncode == 5
    assert docker.ok("exec", "-u", "65534", "-w", "/tmp", c, "sh", "-c",
                     "id -u; pwd").stdout == "65534\n/tmp\n"
    assert docker.ok("exec", "-e", "E2E_VAR=set", c, "sh", "-c",
                     "echo $E2E_VAR").stdout == "set\n"


def test_exec_stdin_piped(docker, started):
    c = started()
    p = docker.ok("exec", "-i", c, "sh", "-c", "cat > /tmp/in; wc -c < /tmp/in", input="12345")
    assert p.stdout.strip() == "5"


def test_run_tty(docker):
    n = name()
    try:
        r = run_in_pty(docker.argv(*docker.run_argv("--rm", "-it", "--name", n, IMG, "sh", "-c",
                                                     "tty; echo cols=$(stty size); exit 3")),
                       env=docker.env)
    finally:
        docker.attempt("rm", "-f", n)  # left behind if the client had to be killed
    assert r.returncode == 3, r
    assert "/dev/pts/0" in r.output
    assert "cols=" in r.output


def test_exec_tty(docker, started):
    c = started()
    r = run_in_pty(docker.argv("exec", "-it", c, "sh"), "echo in-$((1+1)); tty; exit 4\n",
                   env=docker.env, wait_for="#")
    assert r.returncode == 4, r
    assert "in-2" in r.output
    assert "/dev/pts/" in r.output


# -- ps, stats, pause, update ---------------------------------------------------

def test_top(docker, started):
    """`docker top` -> runtime `ps --format json ID`."""
    c = started()
    out = docker.ok("top", c).stdout
    assert "sleep 300" in out
    assert str(docker.pid(c)) in out


def test_stats_no_stream(docker, started):
    skip_if_cgroup_metrics_impossible()
    c = started("--memory", "64m")
    p = docker.ok("stats", "--no-stream", "--format", "{{json .}}", c)
    stats = json.loads(p.stdout)
    assert stats["PIDs"] == "1"
    assert "64MiB" in stats["MemUsage"]


def test_pause_unpause(docker, started):
    c = started()
    pid = docker.pid(c)
    docker.ok("pause", c)
    assert docker.inspect(c, "{{.State.Status}}") == "paused"
    assert cgroup_file(pid, "freezer", "freezer.state") == "FROZEN"
    docker.ok("unpause", c)
    assert docker.inspect(c, "{{.State.Status}}") == "running"
    assert cgroup_file(pid, "freezer", "freezer.state") == "THAWED"
    assert docker.ok("exec", c, "echo", "alive").stdout == "alive\n"


def test_update(docker, started):
    """`docker update` -> runtime `update --resources - ID` with JSON on stdin."""
    c = started()
    pid = docker.pid(c)
    docker.ok("update", "--memory", "64m", "--memory-swap", "128m", "--cpus", "0.5",
              "--pids-limit", "50", c)
    assert cgroup_file(pid, "memory", "memory.limit_in_bytes") == str(64 << 20)
    assert cgroup_file(pid, "cpu", "cpu.cfs_quota_us") == "50000"
    assert cgroup_file(pid, "cpu", "cpu.cfs_period_us") == "100000"
    assert cgroup_file(pid, "pids", "pids.max") == "50"
    # A second update that touches only the CPU must leave the memory limit alone.
    docker.ok("update", "--cpus", "1", c)
    assert cgroup_file(pid, "cpu", "cpu.cfs_quota_us") == "100000"
    assert cgroup_file(pid, "memory", "memory.limit_in_bytes") == str(64 << 20)
    assert docker.inspect(c, "{{.State.Status}}") == "running"


# -- signals: stop, kill, rm -f -----------------------------------------------------

def test_stop_sends_sigterm(docker, started):
    stop_sends_sigterm(docker, started, within=20)


def test_stop_kills_after_timeout(docker, started):
    stop_kills_after_timeout(docker, started)


def test_kill_with_signal(docker, started):
    c = started(cmd=("sh", "-c", 'trap "echo got-usr1" USR1; echo ready; '
                                 "while :; do sleep 1; done"))
    wait_log(docker, c, "ready")
    docker.ok("kill", "-s", "USR1", c)
    wait_log(docker, c, "got-usr1")
    assert docker.inspect(c, "{{.State.Status}}") == "running"
    docker.ok("kill", c)
    wait_for(lambda: docker.inspect(c, "{{.State.Status}}") == "exited", 20, "exit")
    assert docker.inspect(c, "{{.State.ExitCode}}") == "137"


def test_rm_force_running(docker, started):
    c = started()
    pid = docker.pid(c)
    docker.ok("rm", "-f", c)
    assert docker("ps", "-aq", "--filter", f"name={c}").stdout.strip() == ""
    wait_for(lambda: not os.path.exists(f"/proc/{pid}"), 10, "the init to be gone")


# -- resources ---------------------------------------------------------------------

def test_limits_at_run(docker, started):
    c = started("--memory", "96m", "--pids-limit", "20", "--cpus", "1.5", "--cpu-shares", "512")
    pid = docker.pid(c)
    assert cgroup_file(pid, "memory", "memory.limit_in_bytes") == str(96 << 20)
    assert cgroup_file(pid, "pids", "pids.max") == "20"
    assert cgroup_file(pid, "cpu", "cpu.cfs_quota_us") == "150000"
    if V2:  # runc's conversion: 1 + (shares - 2) * 9999 / 262142
        assert cgroup_file(pid, "cpu", "cpu.weight") == "20"
    else:
        assert cgroup_file(pid, "cpu", "cpu.shares") == "512"
    # The container is in a cgroup below the daemon's cgroup-parent.
    assert docker.daemon.config["cgroup-parent"] in open(f"/proc/{pid}/cgroup").read()


def test_cgroup_driver(docker, e2e_cgroups):
    """dockerd uses the suite's driver (systemd: its own default on a v2 systemd
    host, the shim's SystemdCgroup, the runtime's --systemd-cgroup): the
    container's cgroup is `docker-<id>.scope` in the daemon's slice, or
    <cgroup-parent>/<id> with cgroupfs, and is gone after `docker rm -f`."""
    info = json.loads(docker.ok("info", "--format", "{{json .}}").stdout)
    assert info["CgroupDriver"] == e2e_cgroups.driver
    assert info["CgroupVersion"] == ("2" if V2 else "1")
    c = name()
    docker.ok(*docker.run_argv("-d", "--name", c, IMG, *SLEEPER))
    cgroup_follows_driver(docker, e2e_cgroups, c, parent_of="docker", scope="docker",
                          cgroupfs_leaf="", rm=("rm", "-f"))


def test_pids_limit_enforced(docker):
    p = docker(*docker.run_argv("--rm", "--pids-limit", "5", IMG, "sh", "-c",
                                "for i in 1 2 3 4 5 6 7 8; do sleep 5 & done; echo looped"))
    assert "can't fork" in p.stderr, p


def test_ulimit(docker):
    p = docker.ok(*docker.run_argv("--rm", "--ulimit", "nofile=1024:2048", IMG,
                                   "grep", "open files", "/proc/self/limits"))
    assert p.stdout.split()[3:5] == ["1024", "2048"]


# -- security and filesystem -----------------------------------------------------------

def test_read_only_rootfs(docker):
    p = docker(*docker.run_argv("--rm", "--read-only", IMG, "touch", "/file"))
    assert p.returncode != 0
    assert "Read-only file system" in p.stderr


def test_cap_drop_all(docker):
    p = docker.ok(*docker.run_argv("--rm", "--cap-drop", "ALL", IMG, "cat", "/proc/self/status"))
    assert cap_eff(p.stdout) == 0


def test_cap_add(docker):
    p = docker.ok(*docker.run_argv("--rm", "--cap-drop", "ALL", "--cap-add", "NET_ADMIN",
                                   "--cap-add", "SYS_TIME", IMG, "cat", "/proc/self/status"))
    assert cap_eff(p.stdout) == (1 << 12) | (1 << 25)


def test_all_caps_but_sys_resource(docker):
    """What `--privileged` would be here (root lacks CAP_SYS_RESOURCE on this host)."""
    p = docker.ok(*docker.run_argv("--rm", "--cap-add", "ALL", "--cap-drop", "SYS_RESOURCE", IMG,
                                   "cat", "/proc/self/status"))
    caps = cap_eff(p.stdout)
    assert caps & (1 << 21)  # CAP_SYS_ADMIN
    assert not caps & (1 << 24)  # CAP_SYS_RESOURCE


def test_user(docker):
    p = docker.ok(*docker.run_argv("--rm", "--user", "65534:65534", IMG, "sh", "-c",
                                   "id -u; id -g; touch /root/x 2>&1 || echo denied"))
    assert p.stdout.splitlines()[:2] == ["65534", "65534"]
    assert p.stdout.splitlines()[-1] == "denied"
    p = docker.ok(*docker.run_argv("--rm", "--user", "nobody", IMG, "id", "-un"))
    assert p.stdout == "nobody\n"


def test_bind_mounts_rw_and_ro(docker, bind_dir):
    rw = os.path.join(bind_dir, "rw")
    ro = os.path.join(bind_dir, "ro")
    os.mkdir(rw)
    os.mkdir(ro)
    with open(os.path.join(ro, "given"), "w") as f:
        f.write("from-host\n")
    p = docker(*docker.run_argv("--rm", "-v", f"{rw}:/rw", "-v", f"{ro}:/ro:ro", IMG, "sh", "-c",
                                "echo from-container > /rw/made; cat /ro/given; "
                                "echo nope > /ro/new"))
    assert p.returncode != 0
    assert p.stdout == "from-host\n"
    assert "Read-only file system" in p.stderr
    with open(os.path.join(rw, "made")) as f:
        assert f.read() == "from-container\n"
    assert not os.path.exists(os.path.join(ro, "new"))


def test_tmpfs(docker):
    p = docker.ok(*docker.run_argv("--rm", "--read-only", "--tmpfs", "/scratch:rw,size=1m",
                                   IMG, "sh", "-c",
                                   "grep ' /scratch ' /proc/mounts; echo x > /scratch/f; "
                                   "cat /scratch/f"))
    mount_line, content = p.stdout.splitlines()
    assert mount_line.split()[2] == "tmpfs"
    assert "size=1024k" in mount_line
    assert content == "x"


def test_device(docker):
    """--device adds the node and a device-cgroup rule (/dev/fuse is not allowed by default)."""
    script = "test -c /dev/e2efuse && exec 3<>/dev/e2efuse && echo opened"
    p = docker.ok(*docker.run_argv("--rm", "--device", "/dev/fuse:/dev/e2efuse", IMG,
                                   "sh", "-c", script))
    assert p.stdout == "opened\n"
    # Without --device the same node, made by hand, cannot be opened.
    p = docker(*docker.run_argv("--rm", IMG, "sh", "-c",
                                "mknod /dev/e2efuse c 10 229 && " + script))
    assert p.returncode != 0
    assert "opened" not in p.stdout


def test_sysctl(docker):
    p = docker.ok(*docker.run_argv("--rm", "--network", "none",
                                   "--sysctl", "kernel.shm_rmid_forced=1",
                                   "--sysctl", "net.ipv4.tcp_keepalive_time=321", IMG,
                                   "cat", "/proc/sys/kernel/shm_rmid_forced",
                                   "/proc/sys/net/ipv4/tcp_keepalive_time"))
    assert p.stdout.split() == ["1", "321"]


def test_init(docker):
    p = docker.ok(*docker.run_argv("--rm", "--init", IMG, "cat", "/proc/1/comm"))
    assert p.stdout.strip() == "docker-init"


def test_pid_host(docker):
    with open("/proc/1/comm") as f:
        host_init = f.read().strip()
    p = docker.ok(*docker.run_argv("--rm", "--pid", "host", IMG, "sh", "-c",
                                   f"cat /proc/1/comm; test -d /proc/{os.getpid()} && echo seen"))
    assert p.stdout.split() == [host_init, "seen"]


# -- networking (loopback only) ----------------------------------------------------------

def test_network_none(docker):
    p = docker.ok(*docker.run_argv("--rm", "--network", "none", IMG, "ls", "/sys/class/net"))
    assert p.stdout.split() == ["lo"]


@pytest.fixture
def bridge_network(docker):
    """A user-defined bridge with its own interface name, removed after: the
    daemon runs with "bridge": "none", "iptables": false, "ip-forward": false."""
    net = name()
    bridge = f"e2e{uuid.uuid4().hex[:8]}"
    docker.ok("network", "create", "--driver", "bridge", "--subnet", "10.213.47.0/24",
              "-o", f"com.docker.network.bridge.name={bridge}",
              "-o", "com.docker.network.bridge.enable_ip_masquerade=false", net)
    yield net
    attached = docker("network", "inspect", "-f",
                      "{{range $id, $c := .Containers}}{{$id}} {{end}}", net).stdout.split()
    if attached:
        docker.attempt("rm", "-f", *attached)
    docker.ok("network", "rm", net)
    assert not os.path.exists(f"/sys/class/net/{bridge}"), f"bridge {bridge} left behind"


def test_publish_port_on_loopback(docker, started, bridge_network):
    """-p 127.0.0.1:P:8080: docker-proxy on the host loopback -> the container.
    The network namespace is set up by Docker's libnetwork prestart hook."""
    port = free_port()
    started("--network", bridge_network, "-p", f"127.0.0.1:{port}:8080",
            cmd=("sh", "-c", "mkdir /www && echo served-by-busybox > /www/index.html && "
                             "exec httpd -f -p 8080 -h /www"))

    def fetch() -> str | None:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/index.html", timeout=2) as r:
                return r.read().decode()
        except OSError:
            return None
    assert wait_for(fetch, 20, "the published port to answer", step=0.3) == "served-by-busybox\n"


# -- daemon restart (last: it restarts the session's dockerd) ------------------------------

def test_restart_always_after_dockerd_restart(docker, started):
    c = started("--restart", "always", "--stop-timeout", "1")  # sleep, as PID 1, ignores TERM
    before = docker.inspect(c, "{{.State.StartedAt}}")
    docker.daemon.restart()
    wait_for(lambda: docker.inspect(c, "{{.State.Status}}") == "running", 30,
             "the container to be restarted")
    assert docker.inspect(c, "{{.State.StartedAt}}") != before
    assert docker.ok("exec", c, "echo", "back").stdout == "back\n"
