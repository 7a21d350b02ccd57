"""What a failed or crashed command may leave on the host, and one-line error checks."""

from __future__ import annotations

import os
import subprocess

from tests.support import leaks


def found(root: str, cid: str, cgroup_parent: str, marker: str = "") -> list[str]:
    """Everything container `cid` left: state dir, cgroups (every hierarchy), processes,
    host mounts mentioning `marker` (e.g. the bundle path). Empty means clean."""
    left = []
    if os.path.lexists(os.path.join(root, cid)):
        left.append(f"state dir {os.path.join(root, cid)}")
    left += [f"cgroup {d}" for d in leaks.cgroup_dirs(cgroup_parent) if cid in d]
    left += [f"process {pid}" for pid in leaks.processes_mentioning(cid)]
    if marker:
        left += [f"mount {m.strip()}" for m in leaks.mounts_mentioning(marker)]
    return left


def assert_one_clear_line(p: subprocess.CompletedProcess) -> str:
    """A failed command: non-zero status, exactly one error line (warnings aside),
    no traceback."""
    assert p.returncode != 0, f"succeeded: {p.stdout!r}"
    assert "Traceback" not in p.stderr, p.stderr
    assert "internal error" not in p.stderr, p.stderr
    lines = error_lines(p.stderr)
    assert len(lines) == 1, p.stderr
    return lines[0]


def error_lines(stderr: str) -> list[str]:
    """Lines of stderr that are not warnings. Split on "\n" only, as a client reads:
    a message may carry other unicode line breaks (U+0085, U+2028) inside its quotes."""
    return [line for line in stderr.split("\n") if line.strip() and "level=warning" not in line]


def assert_no_bug_output(p: subprocess.CompletedProcess) -> None:
    assert "Traceback" not in p.stderr, p.stderr
    assert "internal error" not in p.stderr, p.stderr
