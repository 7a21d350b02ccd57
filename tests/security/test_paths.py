"""linux.maskedPaths, linux.readonlyPaths, root.readonly and linux.rootfsPropagation,
checked in the container's mount table (/proc/<pid>/mountinfo) and inside."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from tests.security.helpers import mount_at, mountinfo, output, runc_lacks, running
from tests.support import leaks


def test_masked_file_is_dev_null_and_dir_an_empty_read_only_tmpfs(rt, bundle):
    bundle.linux["maskedPaths"] = ["/etc/passwd", "/tmp", "/no/such/path"]
    pid = running(rt, bundle.save())
    passwd = mount_at(pid, "/etc/passwd")
    assert passwd["root"] == "/null"  # /dev/null of the container's /dev
    tmp = mount_at(pid, "/tmp")
    assert (tmp["fstype"], "ro" in tmp["opts"]) == ("tmpfs", True)
    assert not [m for m in mountinfo(pid) if m["point"] == "/no/such/path"]


def test_masked_paths_inside(rt, bundle):
    bundle.linux["maskedPaths"] = ["/etc/passwd", "/root"]
    out = output(rt, bundle.save(), "wc -c < /etc/passwd; ls -A /root | wc -l; "
                 "touch /root/x 2>/dev/null || echo refused")
    assert out.split() == ["0", "0", "refused"]


def test_readonly_paths(rt, bundle):
    bundle.linux["readonlyPaths"] = ["/proc/sys", "/no/such/path"]
    pid = running(rt, bundle.save())
    assert "ro" in mount_at(pid, "/proc/sys")["opts"]
    rt("delete", "--force", bundle.id, check=True)
    out = output(rt, bundle, "echo 1 > /proc/sys/kernel/domainname 2>&1 || echo refused")
    assert "refused" in out or "Read-only" in out


def test_readonly_rootfs(rt, bundle):
    bundle.config["root"]["readonly"] = True
    pid = running(rt, bundle.save())
    assert "ro" in mount_at(pid, "/")["opts"]
    rt("delete", "--force", bundle.id, check=True)
    out = output(rt, bundle, "touch /newfile 2>&1; echo $?")
    assert "Read-only file system" in out


def test_writable_rootfs(rt, bundle):
    rootfs = bundle.own_rootfs()  # readonly: False
    pid = running(rt, bundle)
    assert "rw" in mount_at(pid, "/")["opts"]
    rt("delete", "--force", bundle.id, check=True)
    assert output(rt, bundle, "touch /newfile && echo ok").strip() == "ok"
    assert os.path.exists(os.path.join(rootfs, "newfile"))


# -- rootfsPropagation ---------------------------------------------------------------
def _tags(mount: dict) -> set[str]:
    return {t.split(":")[0] for t in mount["optional"]}


@pytest.mark.parametrize("prop", ["", "private", "rprivate", "slave", "rslave"])
def test_rootfs_is_not_shared_by_default_nor_when_private_or_slave(rt, bundle, prop):
    if prop:
        bundle.linux["rootfsPropagation"] = prop
    pid = running(rt, bundle.save())
    assert "shared" not in _tags(mount_at(pid, "/"))


@runc_lacks("rootfsPropagation shared (its rootfs stays private)")
@pytest.mark.parametrize("prop", ["shared", "rshared"])
def test_shared_rootfs_is_a_new_peer_group(rt, bundle, prop):
    bundle.linux["rootfsPropagation"] = prop
    pid = running(rt, bundle.save())
    assert "shared" in _tags(mount_at(pid, "/"))
    host_groups = {t for m in mountinfo(os.getpid()) for t in m["optional"]}
    assert not {t for t in mount_at(pid, "/")["optional"]} & host_groups


@runc_lacks("rootfsPropagation unbindable (runc 1.1.5 can no longer bind the rootfs)")
def test_unbindable_rootfs(rt, bundle):
    bundle.linux["rootfsPropagation"] = "unbindable"
    pid = running(rt, bundle.save())
    assert "unbindable" in _tags(mount_at(pid, "/"))


@pytest.fixture
def shared_host_dir(tmp_path, rootfs):
    """A shared tmpfs on the host holding a copy of the rootfs: the case where
    pivot_root needs the rootfs's parent mount made private first."""
    top = tmp_path / "shared"
    top.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "tmpfs", str(top)], check=True)
    try:
        subprocess.run(["mount", "--make-shared", str(top)], check=True)
        shutil.copytree(rootfs, top / "rootfs", symlinks=True)
        (top / "rootfs" / "mnt").mkdir()
        yield str(top)
    finally:
        subprocess.run(["umount", "-R", "-l", str(top)], check=False)


def _use_rootfs(bundle, path: str) -> None:
    bundle.config["root"] = {"path": path, "readonly": False}
    bundle.save()


@pytest.mark.parametrize("prop", ["", "slave", "rslave", "private", "rprivate", "shared",
                                  "rshared"])
def test_pivot_root_under_a_shared_host_mount_leaks_nothing(rt, bundle, shared_host_dir, prop):
    rootfs = os.path.join(shared_host_dir, "rootfs")
    if prop:
        bundle.linux["rootfsPropagation"] = prop
    _use_rootfs(bundle, rootfs)
    before = leaks.mounts_mentioning(shared_host_dir)
    running(rt, bundle)
    assert leaks.mounts_mentioning(shared_host_dir) == before


@pytest.mark.parametrize("prop,receives", [
    ("", True), ("rslave", True),
    pytest.param("slave", True, marks=runc_lacks("a slave rootfs under a shared mount (runc "
                                                 "1.1.5 makes it private)")),
    ("private", False), ("rprivate", False)])
def test_host_mounts_reach_a_slave_rootfs_only(rt, bundle, shared_host_dir, prop, receives):
    rootfs = os.path.join(shared_host_dir, "rootfs")
    if prop:
        bundle.linux["rootfsPropagation"] = prop
    _use_rootfs(bundle, rootfs)
    pid = running(rt, bundle)
    mnt = os.path.join(rootfs, "mnt")
    subprocess.run(["mount", "-t", "tmpfs", "late", mnt], check=True)
    try:
        seen = [m for m in mountinfo(pid) if m["point"] == "/mnt"]
        assert bool(seen) == receives
    finally:
        subprocess.run(["umount", mnt], check=True)
