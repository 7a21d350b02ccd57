"""`exec` with each of runc's flags against a running busybox container.

These tests also pass with PYRUNC_TEST_RUNTIME=/usr/sbin/runc: they encode
runc's behaviour (exit 255 for an exec that could not start, its messages).
"""

from __future__ import annotations

import json
import os
import subprocess
import time

import pytest

from tests.exec.execlib import error_line
from tests.support.runtime import is_pyrunc


def test_output_and_exit_status(running):
    p = running.sh("echo out; echo err >&2; exit 3")
    assert p.returncode == 3
    assert p.stdout == "out\n"
    assert "err" in p.stderr


def test_death_by_signal_is_128_plus_n(running):
    assert running.sh("kill -KILL $$").returncode == 137


def test_missing_binary_fails_with_255(running):
    p = running.exec("no-such-binary")
    assert p.returncode == 255
    assert 'exec: \\"no-such-binary\\": executable file not found in $PATH' in error_line(p)


def test_args_are_required(running):
    p = running.rt("exec", running.id)
    assert p.returncode == 255
    assert "process args cannot be empty" in error_line(p)


def test_joins_every_namespace_of_the_init(running):
    kinds = ("mnt", "pid", "net", "ipc", "uts")
    out = running.ok(" ".join(f"readlink /proc/self/ns/{k};" for k in kinds))
    assert out.split() == [os.readlink(f"/proc/{running.pid}/ns/{k}") for k in kinds]
    # In the container's pid namespace, where the init is 1.
    assert running.ok("cat /proc/1/cmdline | tr '\\0' ' '").startswith("/bin/sleep ")


def test_joins_the_containers_cgroups(running, tmp_path):
    pid_file = tmp_path / "exec.pid"
    running.exec("sleep", "30", flags=("-d", "--pid-file", str(pid_file)), check=True)
    pid = int(pid_file.read_text())
    with open(f"/proc/{running.pid}/cgroup") as f:
        init_cgroups = f.read()
    with open(f"/proc/{pid}/cgroup") as f:
        assert f.read() == init_cgroups
    assert running.bundle.id in init_cgroups


def _sub_cgroups(running, name: str) -> list[str]:
    """mkdir <container cgroup>/<name> in every hierarchy the init is in."""
    made = []
    with open(f"/proc/{running.pid}/cgroup") as f:
        lines = f.read().splitlines()
    for line in lines:
        _, controllers, path = line.split(":", 2)
        if not path.endswith(running.bundle.id):
            continue
        for base in _mounts_of(controllers):
            d = os.path.join(base, path.lstrip("/"), name)
            os.makedirs(d, exist_ok=True)
            if "cpuset" in controllers.split(","):
                for knob in ("cpuset.cpus", "cpuset.mems"):
                    with open(os.path.join(os.path.dirname(d), knob)) as src, \
                            open(os.path.join(d, knob), "w") as dst:
                        dst.write(src.read())
            made.append(d)
    return made


def _mounts_of(controllers: str) -> list[str]:
    """Mount points of the cgroup hierarchy with these controllers ("" = cgroup2)."""
    out = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            left, _, right = line.partition(" - ")
            fstype, _, opts = right.split(" ")[:3]
            point = left.split(" ")[4]
            if controllers == "" and fstype == "cgroup2":
                out.append(point)
            elif fstype == "cgroup" and set(controllers.split(",")) <= set(opts.strip().split(",")):
                out.append(point)
    return out[:1]


def test_cgroup_flag_puts_the_process_in_sub_cgroups(running):
    assert _sub_cgroups(running, "sub")
    lines = running.ok("cat /proc/self/cgroup", flags=("--cgroup", "sub")).splitlines()
    assert lines and all(line.endswith(f"{running.bundle.id}/sub") for line in lines
                         if running.bundle.id in line)
    only_memory = running.ok("cat /proc/self/cgroup", flags=("--cgroup", "memory:sub"))
    for line in only_memory.splitlines():
        _, controllers, path = line.split(":", 2)
        if "memory" in controllers.split(","):
            assert path.endswith(f"{running.bundle.id}/sub")
        elif running.bundle.id in path:
            assert path.endswith(running.bundle.id)


@pytest.mark.parametrize("arg, message", [
    ("memory:../..", "../.. is not a sub cgroup path"),
    ("a:b:c", "invalid --cgroup argument: a:b:c"),
    ("nosuchcontroller:sub", "unknown controller nosuchcontroller"),
    ("memory:no-such-sub", "no-such-sub/cgroup.procs"),
])
def test_cgroup_flag_errors(running, arg, message):
    p = running.exec("true", flags=("--cgroup", arg))
    assert p.returncode == 255
    assert message in error_line(p)


def test_env_is_merged_over_the_bundles(running):
    env = running.ok("env", flags=("-e", "FOO=bar", "-e", "PATH=/bin")).splitlines()
    assert "FOO=bar" in env
    assert "PATH=/bin" in env and not any(e.startswith("PATH=/usr") for e in env)
    assert "TERM=xterm" in env       # from config.json
    assert "HOME=/root" in env       # root's home in the container's /etc/passwd


def test_cwd(running):
    assert running.ok("pwd", flags=("--cwd", "/dev")) == "/dev\n"
    assert running.ok("pwd", flags=("--cwd", "/dev/shm")) == "/dev/shm\n"
    p = running.exec("pwd", flags=("--cwd", "/no/such/dir"))
    assert p.returncode == 255 and "/no/such/dir" in error_line(p)
    p = running.exec("pwd", flags=("--cwd", "relative"))
    assert p.returncode == 255 and "Cwd must be an absolute path" in error_line(p)


def test_user_and_additional_gids(running):
    out = running.ok("id; echo $HOME", flags=("-u", "1000:1001", "-g", "10", "-g", "20"))
    assert out.splitlines() == ["uid=1000 gid=1001 groups=10,20", "/"]
    out = running.ok("id -u; id -g; echo $HOME", flags=("--user", "65534"))
    assert out.splitlines() == ["65534", "0", "/nonexistent"]


@pytest.mark.parametrize("flags, message", [
    (("-u", "abc"), 'parsing abc as int for uid failed'),
    (("-u", "1:x"), 'parsing x as int for gid failed'),
    (("-g", "-1"), "additional-gids must be a positive number -1"),
])
def test_user_flag_errors(running, flags, message):
    p = running.exec("id", flags=flags)
    assert p.returncode == 255
    assert message in error_line(p)


def _status(running, flags=()) -> dict[str, str]:
    out = running.ok("cat /proc/self/status", flags=flags)
    return dict(line.split(":\t", 1) for line in out.splitlines() if ":\t" in line)


def test_cap_flag_adds_a_capability(running):
    sys_admin = 1 << 21
    base = _status(running)
    assert not int(base["CapBnd"], 16) & sys_admin
    st = _status(running, flags=("--cap", "CAP_SYS_ADMIN"))
    for key in ("CapBnd", "CapEff", "CapPrm"):
        assert int(st[key], 16) == int(base[key], 16) | sys_admin, key


def test_unknown_cap_is_a_warning(running):
    p = running.exec("true", flags=("--cap", "CAP_NO_SUCH_THING"))
    assert p.returncode == 0
    assert "CAP_NO_SUCH_THING" in p.stderr


def test_no_new_privs_flag(rt, make_bundle):
    from tests.exec.execlib import Running

    bundle = make_bundle()
    bundle.process["noNewPrivileges"] = False
    running = Running.start(rt, bundle)
    assert _status(running)["NoNewPrivs"] == "0"
    assert _status(running, flags=("--no-new-privs",))["NoNewPrivs"] == "1"


def test_process_json(running, tmp_path):
    process = {
        "args": ["/bin/sh", "-c", "id; pwd; echo $GREETING; grep CapEff /proc/self/status"],
        "env": ["PATH=/bin", "GREETING=hello"],
        "cwd": "/tmp",
        "user": {"uid": 1000, "gid": 1000, "additionalGids": [5]},
        "capabilities": {"bounding": ["CAP_KILL"], "effective": ["CAP_KILL"],
                         "permitted": ["CAP_KILL"]},
        "terminal": False,
    }
    path = tmp_path / "process.json"
    path.write_text(json.dumps(process))
    p = running.rt("exec", "--process", str(path), running.id)
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    assert lines[:3] == ["uid=1000 gid=1000 groups=5", "/tmp", "hello"]
    # Not ambient: a non-root process loses CAP_KILL at its execve.
    assert lines[3].split()[1] == "0000000000000000"


def test_process_json_errors(running, tmp_path):
    p = running.rt("exec", "--process", str(tmp_path / "missing.json"), running.id)
    assert p.returncode == 255 and "no such file or directory" in error_line(p)
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"args": ["true"], "cwd": ""}))
    p = running.rt("exec", "--process", str(bad), running.id)
    assert p.returncode == 255 and "Cwd property must not be empty" in error_line(p)


def test_detach_and_pid_file(running, tmp_path):
    pid_file = tmp_path / "p.pid"
    out = tmp_path / "out"
    with open(out, "w") as f, open(tmp_path / "err", "w+") as err:
        # Files: the detached process keeps its stdio open after the runtime exits.
        p = subprocess.run(running.rt.cmd("exec", "-d", "--pid-file", str(pid_file), running.id,
                                          "/bin/sh", "-c", "echo detached; exec sleep 30"),
                           stdout=f, stderr=err, timeout=30)
        assert p.returncode == 0, (tmp_path / "err").read_text()
    pid = int(pid_file.read_text())
    with open(f"/proc/{pid}/cmdline", "rb") as f:
        assert f.read().split(b"\0")[0] in (b"sleep", b"/bin/sleep")
    with open(f"/proc/{pid}/status") as f:
        assert any(line.startswith("NSpid:") and len(line.split()) == 3 for line in f)
    for _ in range(50):
        if out.read_text():
            break
        time.sleep(0.05)
    assert out.read_text() == "detached\n"


def test_apparmor_and_label_without_the_lsm(running):
    if os.path.exists("/sys/kernel/security/apparmor"):
        pytest.skip("AppArmor is enabled here: the profile would be looked up")
    p = running.exec("true", flags=("--apparmor", "some-profile"))
    assert p.returncode == 255 and "apparmor" in error_line(p).lower()
    if os.path.exists("/sys/fs/selinux/enforce"):
        return
    p = running.exec("true", flags=("--process-label", "system_u:system_r:container_t:s0"))
    assert p.returncode == 255
    assert "selinux label is specified in config, but selinux is disabled" in error_line(p)


@pytest.mark.skipif(not is_pyrunc(), reason="runc 1.1.5 has no --pidfd-socket (runc 1.2)")
def test_pidfd_socket(running, tmp_path):
    import signal
    import socket

    path = str(tmp_path / "pidfd.sock")
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    server.listen(1)
    pid_file = tmp_path / "p.pid"
    p = running.exec("sleep", "30", flags=("-d", "--pidfd-socket", path, "--pid-file",
                                          str(pid_file)))
    assert p.returncode == 0, p.stderr
    conn, _ = server.accept()
    msg, fds, _, _ = socket.recv_fds(conn, 4096, 1)
    conn.close()
    server.close()
    assert msg == b"setns" and len(fds) == 1
    with open(f"/proc/self/fdinfo/{fds[0]}") as f:
        info = dict(line.split(":", 1) for line in f.read().splitlines())
    assert int(info["Pid"]) == int(pid_file.read_text())
    signal.pidfd_send_signal(fds[0], signal.SIGKILL)
    import select

    assert select.select([fds[0]], [], [], 10)[0]  # it died of our signal
    os.close(fds[0])


def test_process_json_falls_back_to_the_containers_caps_and_rlimits(rt, bundle, tmp_path):
    from tests.exec.execlib import Running

    # RLIMIT_CORE, not NOFILE: runc's Go runtime resets NOFILE's soft limit at exec.
    bundle.process["rlimits"] = [{"type": "RLIMIT_CORE", "soft": 123456, "hard": 234567}]
    running = Running.start(rt, bundle)
    path = tmp_path / "process.json"
    path.write_text(json.dumps({"args": ["/bin/sh", "-c", "grep CapEff /proc/self/status; "
                                         "grep 'core file' /proc/self/limits"],
                                "cwd": "/", "user": {"uid": 0, "gid": 0}}))
    p = rt("exec", "--process", str(path), running.id)
    assert p.returncode == 0, p.stderr
    with open(f"/proc/{running.pid}/status") as f:
        init_caps = next(line for line in f if line.startswith("CapEff")).split()[1]
    assert p.stdout.split()[:2] == ["CapEff:", init_caps]
    if is_pyrunc():  # runc 1.1.5 leaves them at the runtime's own, whatever its code says
        assert p.stdout.split()[-3:-1] == ["123456", "234567"]
    # An explicit empty set is not absent: every capability goes.
    path.write_text(json.dumps({"args": ["/bin/sh", "-c", "grep CapEff /proc/self/status"],
                                "cwd": "/", "user": {"uid": 0, "gid": 0}, "capabilities": {}}))
    p = rt("exec", "--process", str(path), running.id)
    assert p.stdout.split() == ["CapEff:", "0000000000000000"]


@pytest.mark.skipif(not is_pyrunc(), reason="runc 1.1.5 has no --pidfd-socket (runc 1.2)")
def test_create_pidfd_socket(rt, bundle, tmp_path):
    import socket

    path = str(tmp_path / "pidfd.sock")
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    server.listen(1)
    bundle.args("/bin/sleep", "100")
    rt("create", "-b", bundle.path, "--pidfd-socket", path, bundle.id, check=True)
    conn, _ = server.accept()
    msg, fds, _, _ = socket.recv_fds(conn, 4096, 1)
    conn.close()
    server.close()
    assert msg == b"standard" and len(fds) == 1
    with open(f"/proc/self/fdinfo/{fds[0]}") as f:
        info = dict(line.split(":", 1) for line in f.read().splitlines())
    os.close(fds[0])
    assert int(info["Pid"]) == rt.state(bundle.id)["pid"]
