"""Helpers for the cgroup tests (imported by the test modules and conftest)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time

import pytest

from runtime.cgroups import mounts

requires_root = pytest.mark.skipif(os.geteuid() != 0,
                                   reason="needs root: creates real cgroups")


def has_v1_hierarchies() -> bool:
    """Whether this host mounts any v1 controller hierarchy (v1 or hybrid layout)."""
    return any(not c.startswith("name=") for c in mounts.hierarchies().v1)


V1_ONLY_REASON = ("needs cgroup v1 hierarchies; this host is cgroup v2 only: "
                  "tests/cgroups/test_v2_guest.py covers v2")
# For tests whose subject exists only on v1 (v1 files, temporary v1 hierarchies,
# the hybrid layout): the one place that says so.
requires_v1 = pytest.mark.skipif(not has_v1_hierarchies(), reason=V1_ONLY_REASON)


def unified_dir(rel: str) -> str | None:
    """The cgroup2 directory of ``rel`` on a host whose cgroups are all on cgroup2, else None."""
    h = mounts.hierarchies()
    if has_v1_hierarchies() or h.unified is None:
        return None
    return os.path.join(h.unified.mountpoint, rel.lstrip("/"))


def has_blkio_weight() -> bool:
    """Whether the kernel has a v1 blkio weight file (CFQ's blkio.weight or BFQ's
    blkio.bfq.weight): without an I/O scheduler that has weights, neither exists."""
    blkio = mounts.hierarchies().v1.get("blkio")
    return blkio is not None and any(
        os.path.exists(os.path.join(blkio.mountpoint, name))
        for name in ("blkio.weight", "blkio.bfq.weight"))


requires_blkio_weight = pytest.mark.skipif(
    not has_blkio_weight(), reason="the kernel has no blkio weight file (no BFQ or CFQ scheduler)")


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


REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def pyrunc_command() -> list[str]:
    """How to run pyrunc: $PYRUNC_TEST_RUNTIME, the venv's entry point, or the module."""
    if os.environ.get("PYRUNC_TEST_RUNTIME"):
        return [os.environ["PYRUNC_TEST_RUNTIME"]]
    venv = os.path.join(REPO, ".venv", "bin", "pyrunc")
    if os.access(venv, os.X_OK):
        return [venv]
    return [sys.executable, "-c", "import sys; from runtime.cli import main; sys.exit(main())"]


class Pyrunc:
    """pyrunc with a private --root; every container is force-deleted by cleanup()."""

    def __init__(self, root: str) -> None:
        self.root = root

    def __call__(self, *args: str, input: str | None = None,
                 timeout: float = 60) -> subprocess.CompletedProcess:
        return subprocess.run(pyrunc_command() + ["--root", self.root, *args],
                              capture_output=True, text=True, input=input, timeout=timeout)

    def run_detached(self, cid: str, bundle: str) -> None:
        # Detached: the container inherits our stdio, so give it no pipes.
        with tempfile.TemporaryFile() as err:
            rc = subprocess.run(pyrunc_command() + ["--root", self.root, "run", "-d",
                                                    "--bundle", bundle, cid],
                                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=err, timeout=60).returncode
            err.seek(0)
            assert rc == 0, err.read().decode()

    def state(self, cid: str) -> dict:
        import json

        p = self("state", cid)
        assert p.returncode == 0, p.stderr
        return json.loads(p.stdout)

    def cleanup(self) -> None:
        p = self("list", "-q")
        for cid in p.stdout.split():
            self("delete", "--force", cid)


def busybox_bundle(path: str, cgroups_path: str, args: list[str],
                   resources: dict | None = None) -> str:
    """A bundle with a private, writable busybox rootfs and `runc spec`'s config."""
    import json
    import shutil

    bindir = os.path.join(path, "rootfs", "bin")
    os.makedirs(bindir)
    shutil.copy("/bin/busybox", bindir)
    for applet in ("sh", "sleep", "cat", "head", "tail", "echo", "true"):
        os.symlink("busybox", os.path.join(bindir, applet))
    for sub in ("proc", "sys", "dev", "tmp"):
        os.makedirs(os.path.join(path, "rootfs", sub))
    subprocess.run(["runc", "spec", "--bundle", path], check=True)
    with open(os.path.join(path, "config.json")) as f:
        config = json.load(f)
    config["process"]["terminal"] = False
    config["process"]["args"] = args
    config["root"]["readonly"] = False
    config["linux"]["cgroupsPath"] = cgroups_path
    if resources is not None:
        config["linux"]["resources"] = resources
    with open(os.path.join(path, "config.json"), "w") as f:
        json.dump(config, f)
    return path


def messages(stderr: str) -> str:
    """The plain messages of pyrunc's log lines (time=... level=... msg="...")."""
    import json

    out = []
    for line in stderr.splitlines():
        _, sep, rest = line.partition(" msg=")
        if sep and rest.startswith('"'):
            try:
                out.append(json.loads(rest))
                continue
            except ValueError:
                pass
        out.append(line)
    return "\n".join(out)
