"""Runtime behaviour the clients depend on, checked without a client (the
calls are the ones the shim makes), so that a failure points at the runtime."""

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


def test_created_init_keeps_no_inherited_descriptors(tmp_path, rootfs, cgroup_parent):
    """The shim reads `create`'s output until EOF (go-runc's cmdOutput), so the
    init waiting for `start` must not hold descriptors the runtime inherited
    beyond stdio and --preserve-fds (runc's init is a fresh exec that only gets
    the ones it is given). A leaked one kept a shim's pipe open for good."""
    rt = Runtime(str(tmp_path / "root"))
    cid = secrets.token_hex(8)
    bundle = Bundle(str(tmp_path / "bundle"), rootfs, cgroup_parent, cid)
    bundle.sh("true")
    r, w = os.pipe()
    os.dup2(w, 63)  # inheritable, like a descriptor a wrapper script leaves open
    os.close(w)
    try:
        with open(tmp_path / "out", "w") as out:
            p = subprocess.run(rt.cmd("create", "--bundle", bundle.path, cid), stdout=out,
                               stderr=out, pass_fds=(63,), timeout=30)
        os.close(63)
        assert p.returncode == 0, (tmp_path / "out").read_text()
        pid = rt.state(cid)["pid"]
        held = [fd for fd in os.listdir(f"/proc/{pid}/fd")
                if os.readlink(f"/proc/{pid}/fd/{fd}") == os.readlink(f"/proc/self/fd/{r}")]
        assert held == [], f"the created init holds the caller's pipe as fd {held}"
    finally:
        os.close(r)
        rt.cleanup()
