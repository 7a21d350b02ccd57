"""Foreground `run` and `exec`: the runtime's exit status is the process's, signals
sent to the runtime reach the process; container states an exec is refused in.

These tests also pass with PYRUNC_TEST_RUNTIME=/usr/sbin/runc.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time

import pytest

from tests.exec.execlib import Running, error_line

TRAP = ("trap 'echo got-term; exit 42' TERM; echo ready; "
        "while :; do sleep 0.1; done")


@pytest.mark.parametrize("script, status", [("exit 0", 0), ("exit 1", 1), ("exit 255", 255)])
def test_run_returns_the_exit_status(rt, bundle, script, status):
    # (A pid namespace's init ignores its own SIGKILL: 137 comes from outside, below.)
    bundle.sh(script)
    assert rt("run", "-b", bundle.path, bundle.id).returncode == status
    assert bundle.id not in rt.ids()


def _started(cmd: list[str]) -> subprocess.Popen:
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert p.stdout.readline() == "ready\n"
    return p


def test_run_forwards_sigterm(rt, bundle):
    bundle.sh(TRAP)
    p = _started(rt.cmd("run", "-b", bundle.path, bundle.id))
    p.send_signal(signal.SIGTERM)
    assert p.wait(timeout=20) == 42
    assert p.stdout.read() == "got-term\n"
    p.stdout.close()
    p.stderr.close()


def test_run_killed_container_gives_137(rt, bundle):
    bundle.sh("echo ready; sleep 100")
    p = _started(rt.cmd("run", "-b", bundle.path, bundle.id))
    rt("kill", bundle.id, "KILL", check=True)
    assert p.wait(timeout=20) == 137
    p.stdout.close()
    p.stderr.close()


def test_exec_forwards_sigterm(running):
    p = _started(running.rt.cmd("exec", running.id, "/bin/sh", "-c", TRAP))
    p.send_signal(signal.SIGTERM)
    assert p.wait(timeout=20) == 42
    assert p.stdout.read() == "got-term\n"
    p.stdout.close()
    p.stderr.close()
    assert running.rt.status(running.id) == "running"  # the init was not signalled


def test_exec_stdio_is_the_callers(running):
    p = running.rt("exec", running.id, "/bin/sh", "-c", "read line; echo got-$line; cat >&2",
                   input="hello\nto-stderr\n")
    assert p.returncode == 0
    assert p.stdout == "got-hello\n"
    assert p.stderr == "to-stderr\n"


def test_exec_in_a_paused_container(running, tmp_path):
    running.rt("pause", running.id, check=True)
    try:
        p = running.exec("true")
        assert p.returncode == 255
        assert "cannot exec in a paused container (use --ignore-paused to override)" in \
            error_line(p)
        # --ignore-paused: the process joins the frozen cgroup and starts on resume.
        out = open(tmp_path / "out", "w")
        waiting = subprocess.Popen(running.rt.cmd("exec", "--ignore-paused", running.id,
                                                  "echo", "after-resume"), stdout=out,
                                   stderr=out)
        time.sleep(1)
        assert waiting.poll() is None
    finally:
        running.rt("resume", running.id, check=True)
    assert waiting.wait(timeout=20) == 0
    out.close()
    assert (tmp_path / "out").read_text() == "after-resume\n"


def test_exec_in_a_stopped_container(rt, bundle):
    running = Running.start(rt, bundle, argv=("/bin/true",))
    rt.wait_status(bundle.id, "stopped")
    p = running.exec("true")
    assert p.returncode == 255
    assert "cannot exec in a stopped container" in error_line(p)
    p = rt("exec", "no-such-container", "true")
    assert p.returncode == 255 and "does not exist" in error_line(p)


def test_exec_in_a_created_container(rt, bundle):
    bundle.args("/bin/sleep", "1000")
    rt("create", "-b", bundle.path, bundle.id, check=True)
    running = Running(rt, bundle)
    assert running.ok("echo in-created; cat /proc/1/cmdline | tr '\\0' ' '") \
        .startswith("in-created\n")
    assert rt.status(bundle.id) == "created"


def test_activation_fds_reach_the_init(rt, bundle, tmp_path):
    """systemd socket activation of the runtime: LISTEN_FDS fds are passed to the
    init (before --preserve-fds ones) with LISTEN_FDS and LISTEN_PID=1 set."""
    r, w = os.pipe()
    bundle.sh("echo activated >&3; echo LISTEN_FDS=$LISTEN_FDS LISTEN_PID=$LISTEN_PID")
    # LISTEN_PID must be the runtime's pid: the shell's, which execs the runtime.
    cmd = ["/bin/sh", "-c", 'LISTEN_PID=$$ LISTEN_FDS=1 exec "$@"', "sh",
           *rt.cmd("run", "-b", bundle.path, bundle.id)]
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=30, close_fds=False,
                           preexec_fn=lambda: os.dup2(w, 3))
        os.close(w)
        w = -1
        assert p.returncode == 0, p.stderr
        assert p.stdout == "LISTEN_FDS=1 LISTEN_PID=1\n"
        assert os.read(r, 100) == b"activated\n"
    finally:
        for fd in (r, w):
            if fd >= 0:
                os.close(fd)


def test_detached_exec_writes_to_fifos_it_was_given(running, tmp_path):
    """What Docker's shim does: stdio are FIFOs, the runtime exits at once."""
    fifos = {}
    for name in ("in", "out", "err"):
        os.mkfifo(tmp_path / name)
    # Open our ends first (non-blocking read side), as the shim does.
    fifos["out"] = os.open(tmp_path / "out", os.O_RDONLY | os.O_NONBLOCK)
    fifos["err"] = os.open(tmp_path / "err", os.O_RDONLY | os.O_NONBLOCK)
    fifos["in"] = os.open(tmp_path / "in", os.O_RDWR)
    try:
        with open(tmp_path / "in", "rb") as stdin, open(tmp_path / "out", "wb") as stdout, \
                open(tmp_path / "err", "wb") as stderr:
            p = subprocess.run(running.rt.cmd("exec", "-d", "-u", "1000", running.id, "/bin/sh",
                                              "-c", "read x; echo out-$x; echo err-$x >&2"),
                               stdin=stdin, stdout=stdout, stderr=stderr, timeout=30)
        assert p.returncode == 0
        os.write(fifos["in"], b"fifo\n")
        deadline = time.monotonic() + 10
        got = {"out": b"", "err": b""}
        while time.monotonic() < deadline and not (got["out"] and got["err"]):
            for name in got:
                try:
                    got[name] += os.read(fifos[name], 100)
                except BlockingIOError:
                    pass
            time.sleep(0.05)
        assert got == {"out": b"out-fifo\n", "err": b"err-fifo\n"}
        # Like runc, the FIFOs now belong to the process's user.
        assert os.stat(tmp_path / "out").st_uid == 1000
    finally:
        for fd in fifos.values():
            os.close(fd)
