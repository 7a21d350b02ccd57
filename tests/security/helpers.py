"""Helpers for the security tests: look at a container's process from outside."""

from __future__ import annotations

import os

import pytest

from tests.support import leaks
from tests.support.runtime import is_pyrunc


def runc_lacks(feature: str):
    """Skip marker for checks of a field runc 1.1.5 (the reference here) ignores."""
    return pytest.mark.skipif(not is_pyrunc(), reason=f"runc 1.1.5 does not implement {feature}")


def status(pid: int) -> dict[str, str]:
    """/proc/<pid>/status as a dict."""
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            out[key] = value.strip()
    return out


def cap_mask(value: str) -> int:
    return int(value, 16)


def created(rt, bundle) -> int:
    """Create the container; returns the pid of its init, which waits for `start`
    with every credential already applied (it has not exec'd yet), unless a seccomp
    filter without no_new_privs puts the user switch after `start`."""
    rt("create", "-b", bundle.path, bundle.id, check=True)
    return rt.state(bundle.id)["pid"]


def running(rt, bundle, argv=("/bin/sleep", "100")) -> int:
    """Run the container detached (its process has exec'd); returns the pid."""
    bundle.args(*argv)
    rt("run", "-d", "-b", bundle.path, bundle.id, check=True)
    return rt.state(bundle.id)["pid"]


def output(rt, bundle, script: str) -> str:
    """Run `sh -c script` in the foreground; assert success; return its stdout."""
    bundle.sh(script)
    p = rt("run", "-b", bundle.path, bundle.id)
    assert p.returncode == 0, f"exit {p.returncode}: {p.stderr.strip()} {p.stdout.strip()}"
    return p.stdout


def mountinfo(pid: int) -> list[dict]:
    """The process's mount table: mount point, options, optional fields, fs type."""
    rows = []
    with open(f"/proc/{pid}/mountinfo") as f:
        for line in f:
            left, _, right = line.rstrip("\n").partition(" - ")
            fields = left.split(" ")
            fstype, source, super_opts = (right.split(" ") + ["", "", ""])[:3]
            rows.append({"root": fields[3], "point": fields[4], "opts": fields[5].split(","),
                         "optional": fields[6:], "fstype": fstype, "super": super_opts})
    return rows


def mount_at(pid: int, point: str) -> dict:
    """The topmost mount at `point` in the process's mount table."""
    found = [m for m in mountinfo(pid) if m["point"] == point]
    assert found, f"nothing mounted at {point}"
    return found[-1]


def assert_create_fails_cleanly(rt, bundle, cgroup_parent: str, *fragments: str) -> str:
    """`create` must fail with one clear line naming the problem and leave nothing
    behind: no state, no cgroup, no process.  Returns the message."""
    p = rt("create", "-b", bundle.path, bundle.id)
    assert p.returncode != 0, "create succeeded"
    lines = [line for line in p.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, p.stderr
    assert "Traceback" not in p.stderr
    for frag in fragments:
        assert frag.lower() in lines[0].lower(), lines[0]
    assert rt.ids() == []
    assert not os.path.exists(os.path.join(rt.root, bundle.id))
    assert not any(bundle.id in d for d in leaks.cgroup_dirs(cgroup_parent))
    assert leaks.processes_mentioning(bundle.id) == []
    return lines[0]
