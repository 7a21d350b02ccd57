"""Helpers for the cgroup tests (imported by the test modules and conftest)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from runtime.cgroups import mounts

requires_root = pytest.mark.skipif(os.geteuid() != 0,
                                   reason="needs root: creates real cgroups")


def hierarchy_roots() -> list[str]:
    h = mounts.hierarchies()
    roots = {m.mountpoint for m in h.v1.values()}
    if h.unified is not None:
        roots.add(h.unified.mountpoint)
    return sorted(roots)


def leftovers(rel: str) -> list[str]:
    return [os.path.join(r, rel.lstrip("/")) for r in hierarchy_roots()
            if os.path.isdir(os.path.join(r, rel.lstrip("/")))]


def force_remove(path: str) -> None:
    """Kill what is left in a cgroup tree and remove it (test clean-up only)."""
    for root, _dirs, _ in os.walk(path, topdown=False):
        try:
            with open(os.path.join(root, "cgroup.procs")) as f:
                for pid in f.read().split():
                    try:
                        os.kill(int(pid), signal.SIGKILL)
                    except ProcessLookupError:
                        pass
        except OSError:
            pass
        for _ in range(50):
            try:
                os.rmdir(root)
                break
            except FileNotFoundError:
                break
            except OSError:
                time.sleep(0.02)


class Procs:
    """Start helper processes and make sure they are gone after the test."""

    def __init__(self) -> None:
        self.procs: list[subprocess.Popen] = []

    def start(self, *args: str, stdin=subprocess.PIPE, **kw) -> subprocess.Popen:
        p = subprocess.Popen(list(args), stdin=stdin, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, **kw)
        self.procs.append(p)
        return p

    def sleeper(self) -> subprocess.Popen:
        return self.start("sleep", "1000", stdin=subprocess.DEVNULL)

    def python(self, code: str) -> subprocess.Popen:
        """A python child that runs ``code`` once a line arrives on its stdin."""
        return self.start(sys.executable, "-c",
                          "import sys\nsys.stdin.readline()\n" + code)

    def stop_all(self) -> None:
        for p in self.procs:
            if p.poll() is None:
                p.kill()
            try:
                p.communicate(timeout=10)
            except (subprocess.TimeoutExpired, ValueError):
                pass


def wait_for(cond, timeout: float = 5.0, interval: float = 0.02) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(interval)
    return cond()


def read(path: str) -> str:
    with open(path) as f:
        return f.read()


class RootSubtreeGuard:
    """Remember the cgroup2 root's cgroup.subtree_control and restore it afterwards.

    Testing v2 controllers here means enabling them at the cgroup2 root (the only
    way a child can get hugetlb); this undoes exactly what the test added.
    """

    def __init__(self, mount: str) -> None:
        self.file = os.path.join(mount, "cgroup.subtree_control")
        with open(self.file) as f:
            self.before = set(f.read().split())

    def restore(self) -> None:
        with open(self.file) as f:
            added = set(f.read().split()) - self.before
        for c in sorted(added):
            try:
                with open(self.file, "w") as f:
                    f.write("-" + c)
            except OSError:
                pass
        with open(self.file) as f:
            left = set(f.read().split()) - self.before
        assert not left, f"could not restore {self.file}: {sorted(left)} still enabled"
