"""`run` in the foreground is a child subreaper unless --no-subreaper (runc's run).

Without a pid namespace of its own, a process the container orphans is
re-parented to the nearest subreaper: the foreground runtime, which reaps it,
or with --no-subreaper whatever is above it (the host's init here).  The same
tests run against runc 1.1.5.
"""

from __future__ import annotations

import subprocess
import time

import pytest


@pytest.fixture
def host_pids(bundle):
    """No pid namespace: orphans leave the container's init alone."""
    bundle.linux["namespaces"] = [n for n in bundle.linux["namespaces"] if n["type"] != "pid"]
    return bundle


def _run(rt, bundle, *flags: str) -> tuple[int, subprocess.Popen]:
    """Start a foreground run whose init orphans a process that reports its parent."""
    bundle.sh('(sh -c "sleep 0.5; grep PPid /proc/self/status" &); sleep 1.5')
    proc = subprocess.Popen(rt.cmd("run", *flags, "-b", bundle.path, bundle.id),
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    return proc.pid, proc


def _ppid(out: str) -> int:
    return int(next(line.split()[1] for line in out.splitlines() if line.startswith("PPid")))


def _zombie_children(pid: int) -> list[int]:
    with open(f"/proc/{pid}/task/{pid}/children") as f:
        children = [int(x) for x in f.read().split()]
    zombies = []
    for child in children:
        try:
            with open(f"/proc/{child}/stat") as f:
                if f.read().rsplit(")", 1)[1].split()[0] == "Z":
                    zombies.append(child)
        except FileNotFoundError:
            pass
    return zombies


def test_orphans_are_adopted_and_reaped(any_rt, host_pids):
    pid, proc = _run(any_rt, host_pids)
    try:
        time.sleep(1.0)  # the orphan reported and exited; the init still sleeps
        assert proc.poll() is None
        assert _zombie_children(pid) == [], "an adopted process was left a zombie"
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err
    assert _ppid(out) == pid


def test_no_subreaper(any_rt, host_pids):
    pid, proc = _run(any_rt, host_pids, "--no-subreaper")
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert _ppid(out) != pid
