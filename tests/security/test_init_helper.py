"""pyrunc-init, the static program that clones container processes (csrc/init_helper.c).

The runtime writes the plan to a memfd and executes pyrunc-init, which maps it,
joins namespaces and clones the container process: a waiting init is a clone of
that small program, not of the runtime's Python.  Here: the waiting init's image
and memory, and that pyrunc-init takes only a whole plan (a cut one is an error
on the sync socket, never a crash).
"""

from __future__ import annotations

import fcntl
import os
import shutil
import signal
import socket
import subprocess

import pytest

from runtime.native import INIT, ffi, init_program, lib
from runtime.native.channel import Channel
from runtime.native.plan import Plan
from tests.support.runtime import is_pyrunc

pytestmark = pytest.mark.skipif(not is_pyrunc(), reason="pyrunc's own helper program")
ALL_SEALS = fcntl.F_SEAL_SEAL | fcntl.F_SEAL_SHRINK | fcntl.F_SEAL_GROW | fcntl.F_SEAL_WRITE


def _status(pid: int) -> dict[str, str]:
    with open(f"/proc/{pid}/status") as f:
        return dict(line.rstrip("\n").split(":\t", 1) for line in f if ":\t" in line)


def test_the_waiting_init_is_a_clone_of_pyrunc_init(rt, bundle):
    """Under 2 MiB resident while it waits (a clone of the runtime kept ~5 MiB)."""
    bundle.args("/bin/true")
    rt("create", "-b", bundle.path, bundle.id, check=True)
    pid = rt.state(bundle.id)["pid"]
    assert os.readlink(f"/proc/{pid}/exe") == os.path.realpath(INIT)
    rss_kib = int(_status(pid)["VmRSS"].split()[0])
    assert rss_kib < 2048, f"the waiting init holds {rss_kib} KiB"
    rt("start", bundle.id, check=True)
    rt.wait_status(bundle.id, "stopped")


def _plan_bytes(sync_fd: int) -> bytes:
    """A flattened plan with strings, vectors and data."""
    plan = Plan()
    plan.add(lib.OP_SETGROUPS, "setgroups", data=b"\0" * 8, count=2)
    plan.add(lib.OP_WRITE_FILE, "write", s=("/nonexistent", "x"))
    argv = ["/bin/true", "an argument"]
    plan.add(lib.OP_EXEC, "exec true", v=(argv, ["PATH=/bin"]))
    fd = lib.pyrunc_plan_memfd(plan.to_c(sync_fd))
    assert fd >= 0, os.strerror(-fd)
    try:
        return os.pread(fd, 1 << 20, 0)
    finally:
        os.close(fd)


def _run_init(cut: int | None, plan_sync_offset: int = 0) -> tuple[int, str]:
    """pyrunc-init on the first `cut` bytes of a plan (None: all of it, made for
    another sync fd): (exit status, the error it reported on the sync socket)."""
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    plan_fd = os.memfd_create("plan")
    try:
        data = _plan_bytes(theirs.fileno() + plan_sync_offset)
        assert (cut is None and plan_sync_offset) or (cut is not None and cut < len(data))
        os.write(plan_fd, data[:cut])
        pid = os.posix_spawn(INIT, ["pyrunc-init", str(plan_fd), str(theirs.fileno())], {},
                             file_actions=[(os.POSIX_SPAWN_DUP2, fd, fd)
                                           for fd in (plan_fd, theirs.fileno())])
        theirs.close()
        ours.settimeout(10)
        raw = ours.recv(ffi.sizeof("struct pyrunc_msg"))
        status = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
    finally:
        os.close(plan_fd)
        ours.close()
        theirs.close()
    if not raw:
        return status, ""
    msg = ffi.from_buffer("struct pyrunc_msg *", raw)
    assert msg.type == lib.MSG_ERROR
    return status, ffi.string(msg.text).decode()


def test_a_cut_plan_is_an_error_not_a_crash():
    """Every prefix of a plan lacks part of its last block: refused, by message."""
    size = len(_plan_bytes(0))
    for cut in range(size):
        assert _run_init(cut) == (1, "pyrunc-init: read the plan"), cut


def test_a_plan_for_another_sync_socket_is_refused():
    assert _run_init(None, plan_sync_offset=1) == (1, "pyrunc-init: read the plan")


@pytest.mark.parametrize("args", [[], ["3"], ["x", "4"], ["3", "4", "5"]])
def test_pyrunc_init_is_no_command(args):
    p = subprocess.run([INIT, *args], capture_output=True, text=True, timeout=10)
    assert p.returncode == 2
    assert p.stderr.count("\n") == 1 and "the runtime's helper" in p.stderr


def test_root_executes_pyrunc_init_itself():
    assert init_program.program(INIT, unprivileged=False) == (INIT, -1)


def test_a_writable_pyrunc_init_runs_from_a_sealed_copy(tmp_path, monkeypatch):
    """An unprivileged caller who may write pyrunc-init (their own venv): the clone
    is made from a sealed memfd, so /proc/<pid>/exe leads to nothing writable."""
    copy = tmp_path / "pyrunc-init"
    shutil.copy(INIT, copy)
    original = init_program.program
    monkeypatch.setattr(init_program, "program",
                        lambda: original(str(copy), unprivileged=True))
    plan = Plan()
    plan.sync("look")
    argv = ["/bin/sleep", "30"]
    plan.add(lib.OP_LOOKUP, "look up sleep", v=(argv, ["PATH=/bin"]))
    plan.add(lib.OP_EXEC, "exec sleep", v=(argv, ["PATH=/bin"]))
    ch = Channel(plan)
    pid = ch.spawn()
    try:
        assert ch.wait_sync()[0] == "look"
        assert os.readlink(f"/proc/{pid}/exe").startswith("/memfd:pyrunc-init")
        fd = os.open(f"/proc/{pid}/exe", os.O_RDONLY | os.O_CLOEXEC)
        try:
            assert fcntl.fcntl(fd, fcntl.F_GET_SEALS) == ALL_SEALS
            assert os.pread(fd, 1 << 21, 0) == copy.read_bytes()
            with pytest.raises(OSError):
                os.open(f"/proc/self/fd/{fd}", os.O_WRONLY | os.O_CLOEXEC)
        finally:
            os.close(fd)
        ch.ack()
    finally:
        ch.close()
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
