"""The `#!/proc/self/exe` form of CVE-2019-5736 and the sealed exec trampoline.

Until its final execve a container process of pyrunc is a clone of pyrunc-init
(until 2026-12-07: of the runtime's Python), so its /proc/self/exe is a host
binary.  pyrunc's last step therefore executes a tiny static trampoline from a
sealed memfd, which executes the user's program.  A program that is a
`#!/proc/self/exe` script then makes the kernel run the trampoline again, with
the script's argv: it refuses (exit 127) instead of handing the container a host
binary.

Each test here fails with the trampoline switched off (OP_EXEC_SEALED executing
the program directly), except test_the_final_exe_is_the_users_program, which
guards that the trampoline leaves no trace in the program it runs, and
test_waiting_init_is_not_dumpable, which covers the time before `start` (the init
is non-dumpable while it waits; it fails without that step).
"""

from __future__ import annotations

import errno
import fcntl
import os
import subprocess
import sys
import time

import pytest

from runtime.native import lib
from tests.exec.execlib import Running
from tests.security.profiles import docker_like
from tests.support.runtime import is_pyrunc

pytestmark = pytest.mark.skipif(not is_pyrunc(), reason="pyrunc's own exec trampoline")

MARKER = "HOST-PYTHON-RAN"
# Python reads the #! line as a comment: if the host's Python ever ran this
# script, the marker would be printed.
SCRIPT = f"#!/proc/self/exe\nprint({MARKER!r})\n"
REFUSAL = "refusing to run the exec trampoline"
ALL_SEALS = fcntl.F_SEAL_SEAL | fcntl.F_SEAL_SHRINK | fcntl.F_SEAL_GROW | fcntl.F_SEAL_WRITE


def _script_bundle(bundle, path: str = "/evil") -> str:
    rootfs = bundle.own_rootfs()
    with open(os.path.join(rootfs, path.lstrip("/")), "w") as f:
        f.write(SCRIPT)
    os.chmod(os.path.join(rootfs, path.lstrip("/")), 0o755)
    return rootfs


def _assert_refused(p: subprocess.CompletedProcess) -> None:
    assert MARKER not in p.stdout, "the host's Python ran inside the container"
    assert p.returncode == 127, (p.returncode, p.stderr)
    lines = [line for line in p.stderr.splitlines() if REFUSAL in line]
    assert len(lines) == 1, p.stderr
    assert '"/proc/self/exe"' in lines[0]


def test_proc_self_exe_script_is_refused(rt, bundle):
    _script_bundle(bundle)
    bundle.args("/evil")
    _assert_refused(rt("run", "-b", bundle.path, bundle.id))


def test_refused_where_the_host_python_would_run(rt, bundle, tmp_path):
    """Without a mount namespace /proc/self/exe of the init leads to a host binary,
    which the kernel would run on the script (this is what the trampoline stops)."""
    script = tmp_path / "evil"
    script.write_text(SCRIPT)
    script.chmod(0o755)
    linux = bundle.linux
    linux["namespaces"] = [n for n in linux["namespaces"] if n["type"] != "mount"]
    for key in ("maskedPaths", "readonlyPaths"):
        linux.pop(key, None)
    bundle.config["mounts"] = []
    bundle.config["root"] = {"path": "/"}
    bundle.args(str(script))
    _assert_refused(rt("run", "-b", bundle.path, bundle.id))


def test_exec_of_a_proc_self_exe_script_is_refused(rt, bundle):
    _script_bundle(bundle)
    running = Running.start(rt, bundle)
    _assert_refused(running.exec("/evil"))


def _full_pipe() -> tuple[int, int]:
    """A pipe whose buffer is full: a write to it blocks until the test reads."""
    r, w = os.pipe()
    os.set_blocking(w, False)
    try:
        while True:
            os.write(w, b"x" * 65536)
    except BlockingIOError:
        pass
    os.set_blocking(w, True)
    return r, w


def _drain(r: int) -> None:
    os.set_blocking(r, False)
    try:
        while os.read(r, 1 << 20):
            pass
    except BlockingIOError:
        pass


def test_trampoline_stage_is_sealed_and_not_the_runtime(rt, bundle, tmp_path):
    """Hold an exec'd process inside the trampoline (its refusal is written to a
    full pipe) and look at its /proc/<pid>/exe, from the host and from inside
    the container: a sealed memfd holding the trampoline, never the runtime's
    binary, and nothing can write to it."""
    _script_bundle(bundle)
    running = Running.start(rt, bundle)
    r, w = _full_pipe()
    pid_file = tmp_path / "exec.pid"
    proc = subprocess.Popen(rt.cmd("exec", "-d", "--pid-file", str(pid_file), running.id,
                                   "/evil"), stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=w)
    os.close(w)
    try:
        assert proc.wait(timeout=30) == 0
        pid = int(pid_file.read_text())
        exe = os.readlink(f"/proc/{pid}/exe")
        assert exe.startswith("/memfd:pyrunc-exec-trampoline"), exe
        fd = os.open(f"/proc/{pid}/exe", os.O_RDONLY | os.O_CLOEXEC)
        try:
            st = os.fstat(fd)
            python = os.stat(os.path.realpath(sys.executable))
            assert (st.st_dev, st.st_ino) != (python.st_dev, python.st_ino)
            assert st.st_size == lib.pyrunc_trampoline_size
            assert os.pread(fd, 4, 0) == b"\x7fELF"
            assert fcntl.fcntl(fd, fcntl.F_GET_SEALS) == ALL_SEALS
            _assert_not_writable(fd)
            # The container's own view: find the process by its exe, try to write.
            inside = running.ok(
                "for d in /proc/[0-9]*; do case $(readlink $d/exe) in *memfd:pyrunc*) "
                "echo found; readlink $d/exe; (echo x >> $d/exe) 2>/dev/null && echo WROTE;"
                " (echo x > $d/exe) 2>/dev/null && echo WROTE;; esac; done")
            assert "found" in inside and "WROTE" not in inside, inside
            assert "python" not in inside
        finally:
            _drain(r)
            _wait_gone(pid)
            # Once the trampoline is gone the memfd is not being executed: still sealed.
            _assert_not_writable(fd)
            os.close(fd)
    finally:
        os.close(r)


def _assert_not_writable(fd: int) -> None:
    try:
        w = os.open(f"/proc/self/fd/{fd}", os.O_WRONLY | os.O_CLOEXEC)
    except OSError as e:
        assert e.errno in (errno.ETXTBSY, errno.EPERM, errno.EACCES), e
        return
    try:
        with pytest.raises(OSError) as err:
            os.write(w, b"overwritten")
        assert err.value.errno == errno.EPERM
        with pytest.raises(OSError):
            os.ftruncate(w, 0)
    finally:
        os.close(w)


def _wait_gone(pid: int) -> None:
    deadline = time.monotonic() + 10
    while os.path.exists(f"/proc/{pid}") and time.monotonic() < deadline:
        time.sleep(0.02)


def test_the_final_exe_is_the_users_program(rt, bundle):
    """After both execs: /proc/self/exe is the program, and the memfd is gone."""
    bundle.sh("readlink /proc/self/exe; ls /proc/self/fd")
    p = rt("run", "-b", bundle.path, bundle.id)
    assert p.returncode == 0, p.stderr
    lines = p.stdout.split()
    assert lines[0] == "/bin/busybox"
    assert sorted(lines[1:]) == ["0", "1", "2", "3"]  # 3: ls's own directory
    running = Running.start(rt, bundle)
    assert running.ok("readlink /proc/self/exe").strip() == "/bin/busybox"


def test_waiting_init_is_not_dumpable(rt, bundle):
    """Before `start` the init is still a clone of pyrunc-init: a process `exec`ed
    into the created container must not reach that host binary through
    /proc/1/exe (nor the init's root or cwd)."""
    bundle.args("/bin/true")
    rt("create", "-b", bundle.path, bundle.id, check=True)
    p = rt("exec", bundle.id, "/bin/sh", "-c",
           "readlink /proc/1/exe; head -c 4 /proc/1/exe >/dev/null && echo READ")
    assert p.returncode != 0
    assert "python" not in p.stdout and "pyrunc-init" not in p.stdout, p.stdout
    assert "READ" not in p.stdout, p.stdout
    assert "Permission denied" in p.stderr, p.stderr
    rt("start", bundle.id, check=True)  # and it still starts


def _without(profile: dict, name: str) -> dict:
    for rule in profile["syscalls"]:
        rule["names"] = [n for n in rule["names"] if n != name]
    return profile


@pytest.mark.parametrize("nnp", [True, False], ids=["no_new_privs", "privileged-load"])
def test_execveat_refused_by_seccomp_falls_back(rt, bundle, nnp):
    """A profile that allows execve but not execveat (EPERM): the trampoline runs
    through /proc/self/fd, so the refusal still comes, and programs still run."""
    _script_bundle(bundle)
    bundle.process["noNewPrivileges"] = nnp
    bundle.linux["seccomp"] = _without(docker_like(), "execveat")
    bundle.args("/evil")
    _assert_refused(rt("run", "-b", bundle.path, bundle.id))
    bundle.sh("echo ran")
    p = rt("run", "-b", bundle.path, bundle.id)
    assert (p.returncode, p.stdout) == (0, "ran\n"), p.stderr


def test_execveat_that_would_kill_is_not_called(rt, bundle):
    """execveat under SCMP_ACT_KILL_PROCESS: never called, the memfd is executed
    through /proc/self/fd (else the container would die of SIGSYS)."""
    _script_bundle(bundle)
    profile = _without(docker_like(), "execveat")
    profile["syscalls"].append({"names": ["execveat"], "action": "SCMP_ACT_KILL_PROCESS"})
    bundle.linux["seccomp"] = profile
    bundle.args("/evil")
    _assert_refused(rt("run", "-b", bundle.path, bundle.id))
