"""Bind sources that a container's user namespace cannot reach (below a directory only
host root may enter) still mount, as in runc, which opens them before the init joins
the user namespace; and the bind gets the rootfs's propagation, not the host's
sharing.  Against pyrunc and runc (any_rt)."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile

import pytest

MAP = [{"containerID": 0, "hostID": 100000, "size": 65536}]


@pytest.fixture
def layout(rootfs):
    """(rootfs the mapped root can read, a 0700 root-only directory with the sources)."""
    top = tempfile.mkdtemp(prefix="pyrunc-userns-binds-")
    os.chmod(top, 0o755)
    own = os.path.join(top, "rootfs")
    shutil.copytree(rootfs, own, symlinks=True)
    for d in ("mnt/dir", "mnt/shared"):
        os.makedirs(os.path.join(own, d))
    open(os.path.join(own, "mnt", "file"), "w").close()
    locked = os.path.join(top, "locked")
    os.makedirs(os.path.join(locked, "dir"))
    os.chmod(locked, 0o700)
    with open(os.path.join(locked, "dir", "hello"), "w") as f:
        f.write("hello\n")
    with open(os.path.join(locked, "file"), "w") as f:
        f.write("file\n")
    yield own, locked
    shutil.rmtree(top)


def _bind(dest: str, source: str, *options: str) -> dict:
    return {"destination": dest, "type": "bind", "source": source, "options": list(options)}


def test_sources_only_host_root_may_reach_still_mount(any_rt, bundle, layout):
    own, locked = layout
    bundle.config["root"] = {"path": own, "readonly": True}
    bundle.linux["namespaces"].append({"type": "user"})
    bundle.linux["uidMappings"] = bundle.linux["gidMappings"] = MAP
    bundle.config["mounts"] += [_bind("/mnt/dir", f"{locked}/dir", "rbind", "ro"),
                                _bind("/mnt/file", f"{locked}/file", "bind", "nosuid")]
    bundle.sh("cat /mnt/dir/hello /mnt/file; grep ' /mnt/' /proc/mounts | cut -d' ' -f2,4")
    p = any_rt("run", "-b", bundle.path, bundle.id)
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    assert lines[:2] == ["hello", "file"]
    opts = dict(line.split(" ", 1) for line in lines[2:])
    assert opts["/mnt/dir"].startswith("ro,") and ",nosuid" in opts["/mnt/file"]
    # Without the user namespace's help the path is out of its reach: the test means it.
    p = subprocess.run(["setpriv", "--reuid=100000", "--regid=100000", "--clear-groups",
                        "cat", f"{locked}/file"], capture_output=True, text=True)
    assert p.returncode != 0 and "Permission denied" in p.stderr


def test_a_bind_of_a_shared_mount_is_a_slave_in_the_container(any_rt, bundle, layout):
    own, locked = layout
    src = os.path.join(locked, "dir")
    subprocess.run(["mount", "-t", "tmpfs", "pyrunc-shared-src", src], check=True)
    try:
        subprocess.run(["mount", "--make-shared", src], check=True)
        bundle.config["root"] = {"path": own, "readonly": True}
        bundle.linux["namespaces"].append({"type": "user"})
        bundle.linux["uidMappings"] = bundle.linux["gidMappings"] = MAP
        bundle.config["mounts"].append(_bind("/mnt/shared", src, "rbind"))
        bundle.sh("grep ' /mnt/shared ' /proc/self/mountinfo")
        p = any_rt("run", "-b", bundle.path, bundle.id)
        assert p.returncode == 0, p.stderr
        fields = p.stdout.split(" - ")[0].split()[6:]
        assert [f.split(":")[0] for f in fields] == ["master"], p.stdout   # not "shared"
    finally:
        subprocess.run(["umount", src], check=True)
