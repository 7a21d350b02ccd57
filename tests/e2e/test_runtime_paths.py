"""Runtime behaviour the clients depend on, checked without a client: the state
paths that Docker's default layout produces."""

from __future__ import annotations

import os
import secrets
import subprocess

import pytest

from tests.support.bundle import Bundle
from tests.support.runtime import Runtime

pytestmark = pytest.mark.e2e


def test_deep_root_and_long_id_like_dockers(tmp_path, rootfs, cgroup_parent):
    """Docker's shim passes --root /var/run/docker/runtime-runc/moby and a 64-hex
    id: <root>/<id>/start.sock is then longer than a unix socket path may be."""
    root = str(tmp_path / "var" / "run" / "docker" / "runtime-runc" / "moby")
    cid = secrets.token_hex(32)
    assert len(os.path.join(root, cid, "start.sock")) > 108
    rt = Runtime(root)
    bundle = Bundle(str(tmp_path / "bundle"), rootfs, cgroup_parent, cid)
    bundle.sh("echo started")
    out = tmp_path / "out"
    try:
        with open(out, "w") as f:
            p = subprocess.run(rt.cmd("create", "--bundle", bundle.path, cid), stdout=f,
                               stderr=f, timeout=30)
        assert p.returncode == 0, out.read_text()
        assert rt.status(cid) == "created"
        rt("start", cid, check=True)
        rt.wait_status(cid, "stopped")
        assert out.read_text() == "started\n"
        rt("delete", cid, check=True)
    finally:
        rt.cleanup()
