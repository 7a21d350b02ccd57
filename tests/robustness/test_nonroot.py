"""pyrunc run by an unprivileged user without --rootless: one clear error, and
nothing is touched (no state, no cgroup, no process; root's containers intact)."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import uuid

import pytest

from tests.robustness.leftovers import assert_one_clear_line, found
from tests.support.bundle import Bundle
from tests.support.runtime import Runtime, binary

NOBODY = 65534
SETPRIV = shutil.which("setpriv")
pytestmark = pytest.mark.skipif(SETPRIV is None, reason="setpriv (util-linux) is not installed")


class AsNobody(Runtime):
    def cmd(self, *args: str) -> list[str]:
        return [SETPRIV, "--reuid", str(NOBODY), "--regid", str(NOBODY), "--clear-groups",
                *super().cmd(*args)]


@pytest.fixture
def world(rootfs, cgroup_parent):
    """A directory every user can enter, with a bundle in it (pytest's tmp dirs are
    root's alone). The bundle's rootfs is the shared one, which nobody can read:
    a copy keeps the failure about privileges, not about a path."""
    top = tempfile.mkdtemp(prefix="pyrunc-nonroot-", dir="/tmp")
    os.chmod(top, 0o755)
    cid = f"nr-{uuid.uuid4().hex[:8]}"
    b = Bundle(os.path.join(top, cid), rootfs, cgroup_parent, cid)
    os.chmod(b.path, 0o755)
    b.own_rootfs()
    os.chmod(os.path.join(b.path, "config.json"), 0o644)
    yield top, b
    Runtime(os.path.join(top, "root")).cleanup()
    shutil.rmtree(top, ignore_errors=True)


def test_create_as_nobody_in_a_root_it_owns(world, cgroup_parent):
    top, b = world
    root = os.path.join(top, "nobody-root")
    os.mkdir(root)
    os.chown(root, NOBODY, NOBODY)
    p = AsNobody(root)("create", "-b", b.path, b.id)
    assert_one_clear_line(p)
    assert os.listdir(root) == []
    assert found(root, b.id, cgroup_parent, b.path) == []


def test_create_as_nobody_in_root_owned_state(world, cgroup_parent):
    top, b = world
    root = os.path.join(top, "root")
    p = AsNobody(root)("create", "-b", b.path, b.id)
    line = assert_one_clear_line(p)
    assert "permission denied" in line.lower(), line
    assert not os.path.exists(os.path.join(root, b.id))
    assert found(root, b.id, cgroup_parent, b.path) == []


def test_run_as_nobody_default_root(world, cgroup_parent):
    _, b = world
    cmd = [SETPRIV, "--reuid", str(NOBODY), "--regid", str(NOBODY), "--clear-groups",
           binary(), "run", "-b", b.path, b.id]
    p = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                       timeout=60)
    line = assert_one_clear_line(p)
    assert "permission denied" in line.lower() or "operation not permitted" in line.lower(), line
    assert found("/run/pyrunc", b.id, cgroup_parent, b.path) == []


@pytest.mark.parametrize("command", [("kill", "KILL"), ("delete", "--force"), ("delete",),
                                     ("pause",), ("start",), ("kill", "--all", "KILL")])
def test_nobody_cannot_touch_roots_container(world, cgroup_parent, command):
    """root's running container; nobody's commands fail cleanly, it keeps running."""
    top, b = world
    root = os.path.join(top, "root")
    rt = Runtime(root)
    b.args("/bin/sleep", "100")
    rt("run", "-d", "-b", b.path, b.id, check=True)
    pid = rt.state(b.id)["pid"]
    args = [command[0], *command[1:-1], b.id, command[-1]] if command[0] == "kill" else \
        [*command, b.id]
    p = AsNobody(root)(*args)
    assert_one_clear_line(p)
    assert rt.status(b.id) == "running"
    assert os.path.exists(f"/proc/{pid}")
    rt("delete", "--force", b.id, check=True)
    assert found(root, b.id, cgroup_parent, b.path) == []
