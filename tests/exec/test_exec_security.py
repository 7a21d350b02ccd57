"""Security regressions around exec and the container's fds.

CVE-2019-5736 class: the process that joins the container is non-dumpable until
its execve, so nothing in the container can open its /proc/<pid>/exe (the
runtime's binary on the host) or its fds.  CVE-2024-21626 class: no host fd
reaches the container, and a cwd can't lead out of the root (/proc/self/fd/N,
symlinks).  Plus: an exec'd process is as confined as its spec says
(capabilities, seccomp).

These tests also pass with PYRUNC_TEST_RUNTIME=/usr/sbin/runc.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time

import pytest

from tests.exec.execlib import Running, error_line
from tests.security.profiles import docker_like

SETPRIV = shutil.which("setpriv")
NO_PTRACE = [SETPRIV or "setpriv", "--bounding-set=-sys_ptrace", "--"]


def _readable_without_ptrace_cap(*argv: str) -> bool:
    """Can root without CAP_SYS_PTRACE (as a container's root is) run this reader?"""
    p = subprocess.run([*NO_PTRACE, *argv], capture_output=True, text=True, timeout=10)
    return p.returncode == 0


def _cgroup_procs(pid: int) -> str:
    """cgroup.procs of the init's freezer cgroup (the one pause freezes)."""
    with open(f"/proc/{pid}/cgroup") as f:
        for line in f:
            _, controllers, path = line.rstrip("\n").split(":", 2)
            if "freezer" in controllers.split(","):
                return f"/sys/fs/cgroup/freezer{path}/cgroup.procs"
    pytest.skip("no v1 freezer here: the joining process can't be held still to look at it")


@pytest.mark.skipif(SETPRIV is None, reason="setpriv (util-linux) is needed to drop a cap")
def test_joining_process_is_not_dumpable(running):
    """Hold the joining process still (it enters the container's frozen cgroups
    before its execve) and look at it as the container's root would: without
    CAP_SYS_PTRACE.  The runtime itself runs without CAP_SYS_PTRACE too, so only
    the dumpable flag stands between the two."""
    procs = _cgroup_procs(running.pid)
    # Control: such a reader does see a (dumpable) container process's exe and fds.
    links = ("exe", "fd/0", "root")
    for link in links:
        assert _readable_without_ptrace_cap("readlink", f"/proc/{running.pid}/{link}")
    running.rt("pause", running.id, check=True)
    log = open(os.path.join(running.bundle.path, "exec.log"), "w+")
    proc = subprocess.Popen([*NO_PTRACE, *running.rt.cmd("exec", "--ignore-paused", "-d",
                                                         running.id, "true")],
                            stdout=log, stderr=log)
    try:
        joiner = 0
        deadline = time.monotonic() + 20
        while not joiner and time.monotonic() < deadline and proc.poll() is None:
            with open(procs) as f:
                others = [int(x) for x in f.read().split() if int(x) != running.pid]
            joiner = others[0] if others else 0
            time.sleep(0.02)
        log.seek(0)
        assert joiner, f"the exec process never joined the cgroup: {log.read()}"
        for link in links:
            assert not _readable_without_ptrace_cap("readlink", f"/proc/{joiner}/{link}"), link
    finally:
        running.rt("resume", running.id)
        assert proc.wait(timeout=20) == 0
        log.close()


def _fds_of(pid: int) -> list[int]:
    return sorted(int(fd) for fd in os.listdir(f"/proc/{pid}/fd"))


def test_no_host_fd_reaches_an_exec_process(running, tmp_path):
    leaked = os.open(str(tmp_path), os.O_RDONLY | os.O_DIRECTORY)  # inheritable below
    try:
        pid_file = tmp_path / "p.pid"
        p = running.rt("exec", "-d", "--pid-file", str(pid_file), running.id, "sleep", "30",
                       pass_fds=(leaked,))
        assert p.returncode == 0, p.stderr
        assert _fds_of(int(pid_file.read_text())) == [0, 1, 2]
    finally:
        os.close(leaked)


def test_preserve_fds_passes_exactly_n(running, tmp_path):
    r, w = os.pipe()
    extra = os.open(str(tmp_path), os.O_RDONLY | os.O_DIRECTORY)
    pid_file = tmp_path / "p.pid"

    def exec_with_fds(*argv: str) -> subprocess.CompletedProcess:
        # fd 3 is the pipe, fd 4 a directory that must not be passed.
        cmd = running.rt.cmd("exec", "-d", "--pid-file", str(pid_file), "--preserve-fds", "1",
                             running.id, *argv)
        with open(tmp_path / "out", "w") as out:
            return subprocess.run(cmd, stdout=out, stderr=out, timeout=30, close_fds=False,
                                  preexec_fn=lambda: (os.dup2(w, 3), os.dup2(extra, 4)))

    try:
        p = exec_with_fds("/bin/sh", "-c", "echo via-fd3 >&3; env > /dev/shm/env")
        assert p.returncode == 0, (tmp_path / "out").read_text()
        os.close(w)
        w = -1
        assert os.read(r, 100) == b"via-fd3\n"
        assert "LISTEN_FDS" not in running.ok("cat /dev/shm/env")  # none for exec (as runc)
        w = os.dup(r)  # any fd will do now
        p = exec_with_fds("sleep", "30")
        assert p.returncode == 0
        assert _fds_of(int(pid_file.read_text())) == [0, 1, 2, 3]
    finally:
        for fd in (r, w, extra):
            if fd >= 0:
                os.close(fd)


def test_preserve_fds_must_be_open(running):
    p = running.exec("true", flags=("--preserve-fds", "40"))
    assert p.returncode == 255
    assert "unable to stat preserved-fd" in error_line(p)


def test_no_host_fd_reaches_an_init(rt, bundle, tmp_path):
    leaked = os.open(str(tmp_path), os.O_RDONLY | os.O_DIRECTORY)
    try:
        bundle.args("/bin/sleep", "100")
        p = rt("run", "-d", "-b", bundle.path, bundle.id, pass_fds=(leaked,))
        assert p.returncode == 0, p.stderr
        assert _fds_of(rt.state(bundle.id)["pid"]) == [0, 1, 2]
    finally:
        os.close(leaked)


def test_cwd_through_a_leaked_fd_is_refused(running, tmp_path):
    """CVE-2024-21626: a cwd of /proc/self/fd/N, N an fd to a host directory."""
    (tmp_path / "HOSTFILE").write_text("")
    host_dir = os.open(str(tmp_path), os.O_RDONLY | os.O_DIRECTORY)
    try:
        cmd = running.rt.cmd("exec", "--preserve-fds", "1", "--cwd", "/proc/self/fd/3",
                             running.id, "/bin/sh", "-c", "ls; echo ran")
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=30,
                           close_fds=False, preexec_fn=lambda: os.dup2(host_dir, 3))
    finally:
        os.close(host_dir)
    assert p.returncode == 255
    assert "ran" not in p.stdout and "HOSTFILE" not in p.stdout
    assert "preserved-fd" not in p.stderr  # refused for its cwd, not for a missing fd


def test_init_cwd_through_a_leaked_fd_is_refused(rt, bundle, tmp_path):
    host_dir = os.open(str(tmp_path), os.O_RDONLY | os.O_DIRECTORY)
    bundle.process["cwd"] = "/proc/self/fd/3"
    bundle.sh("ls; echo ran")
    try:
        cmd = rt.cmd("run", "--preserve-fds", "1", "-b", bundle.path, bundle.id)
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=30,
                           close_fds=False, preexec_fn=lambda: os.dup2(host_dir, 3))
    finally:
        os.close(host_dir)
    assert p.returncode != 0
    assert "ran" not in p.stdout
    assert "preserved-fd" not in p.stderr  # refused for its cwd, not for a missing fd


def test_cwd_symlinks_stay_inside_the_root(rt, bundle):
    rootfs = bundle.own_rootfs()
    os.symlink("../../../../../../../..", os.path.join(rootfs, "up"))
    os.symlink("/etc", os.path.join(rootfs, "abs-etc"))
    running = Running.start(rt, bundle)
    assert running.ok("pwd; ls /", flags=("--cwd", "/up")).splitlines()[0] == "/"
    listing = running.ok("ls", flags=("--cwd", "/abs-etc")).split()
    assert sorted(listing) == sorted(os.listdir(os.path.join(rootfs, "etc")))


def test_exec_without_capabilities_is_confined(rt, bundle):
    """A process spec that drops every capability: the exec'd root can't chown."""
    bundle.process["capabilities"] = {k: [] for k in ("bounding", "effective", "permitted",
                                                      "inheritable", "ambient")}
    running = Running.start(rt, bundle)
    p = running.sh("grep -E '^Cap(Eff|Prm|Bnd)' /proc/self/status; touch /dev/shm/f; "
                   "chown 1 /dev/shm/f && echo chowned")
    caps = [line.split()[1] for line in p.stdout.splitlines() if line.startswith("Cap")]
    assert caps == ["0000000000000000"] * 3, p.stdout
    assert "chowned" not in p.stdout and "Operation not permitted" in p.stderr
    # With the capability added on the command line, the same command works.
    assert "chowned" in running.ok("chown 1 /dev/shm/f && echo chowned",
                                   flags=("--cap", "CAP_CHOWN"))


@pytest.mark.parametrize("nnp", [True, False], ids=["no_new_privs", "privileged-load"])
def test_exec_runs_under_the_containers_seccomp_filter(rt, make_bundle, nnp):
    """CAP_SYS_ADMIN given, so only the filter can refuse unshare(CLONE_NEWNS)."""
    bundle = make_bundle()
    bundle.process["noNewPrivileges"] = nnp
    bundle.linux["seccomp"] = docker_like()
    running = Running.start(rt, bundle)
    p = running.sh("grep ^Seccomp: /proc/self/status; unshare -m true && echo unshared",
                   flags=("--cap", "CAP_SYS_ADMIN"))
    assert "Seccomp:\t2" in p.stdout
    assert "unshared" not in p.stdout
    control = Running.start(rt, make_bundle("noseccomp"))
    assert "unshared" in control.ok("unshare -m true && echo unshared",
                                    flags=("--cap", "CAP_SYS_ADMIN"))
