"""Mount points a rootfs may lack or get wrong, as runc 1.1 handles them (any_rt):
/proc and /dev/pts created where missing, on a read-only /dev too; procfs refused on
a symlink; with --no-pivot no fresh procfs behind the masks."""

from __future__ import annotations

import os
import shutil

import pytest

SHOW = "ls -d /proc/self /dev/pts; grep -E ' /dev | /ro-tmp ' /proc/mounts | cut -d' ' -f2,4"


def _mount(bundle, dest: str) -> dict:
    return next(m for m in bundle.config["mounts"] if m["destination"] == dest)


@pytest.mark.parametrize("missing", ["proc", "dev"])
@pytest.mark.parametrize("readonly_root", [False, True], ids=["rw-root", "ro-root"])
def test_missing_proc_and_dev_are_created(any_rt, bundle, missing, readonly_root):
    rootfs = bundle.own_rootfs()
    shutil.rmtree(os.path.join(rootfs, missing))
    bundle.config["root"]["readonly"] = readonly_root
    bundle.sh("ls -d /proc/self /dev/pts /dev/null")
    p = any_rt("run", "-b", bundle.path, bundle.id)
    assert p.returncode == 0, p.stderr
    assert p.stdout.split() == ["/dev/null", "/dev/pts", "/proc/self"]     # ls sorts
    assert os.path.isdir(os.path.join(rootfs, missing))


@pytest.mark.parametrize("has_dev", [True, False], ids=["dev", "no-dev"])
def test_a_read_only_dev_gets_its_mount_points_first(any_rt, bundle, has_dev):
    """/dev (and any tmpfs) is mounted read-write, filled, then made read-only."""
    rootfs = bundle.own_rootfs()
    if not has_dev:
        shutil.rmtree(os.path.join(rootfs, "dev"))
    _mount(bundle, "/dev")["options"].append("ro")
    bundle.config["mounts"].append({"destination": "/ro-tmp", "type": "tmpfs",
                                    "source": "tmpfs", "options": ["ro", "nosuid"]})
    bundle.sh(SHOW + "; touch /dev/x /ro-tmp/x 2>/dev/null || echo read-only")
    p = any_rt("run", "-b", bundle.path, bundle.id)
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    assert lines[:2] == ["/dev/pts", "/proc/self"]
    opts = dict(line.split(" ", 1) for line in lines[2:4])
    assert opts["/dev"].startswith("ro,") and opts["/ro-tmp"].startswith("ro,")
    assert lines[4:] == ["read-only"]


@pytest.mark.parametrize("fstype, dest", [("proc", "/proc"), ("sysfs", "/sys")])
@pytest.mark.parametrize("kind", ["symlink", "file"])
def test_proc_and_sys_must_be_mounted_on_an_ordinary_directory(any_rt, bundle, fstype, dest,
                                                               kind):
    rootfs = bundle.own_rootfs()
    path = os.path.join(rootfs, dest.lstrip("/"))
    shutil.rmtree(path)
    if kind == "symlink":
        os.symlink("/tmp", path)
    else:
        open(path, "w").close()
    p = any_rt("run", "-b", bundle.path, bundle.id)
    assert p.returncode == 1
    runc_adds = "error during container init: " if os.path.basename(any_rt.path) == "runc" else ""
    assert (rf'unable to start container process: {runc_adds}error '
            rf'mounting \"{fstype}\" to rootfs at \"{dest}\": filesystem \"{fstype}\" must be '
            r'mounted on ordinary directory"') in p.stderr
    assert any_rt.ids() == []


# Inside a user namespace of its own, root of the container may mount a procfs only
# where one is fully visible: the masks over the container's /proc prevent it.
NESTED = ("mkdir -p /tmp/p /tmp/t; unshare -Urmpf sh -c '"
          "mount -t tmpfs t /tmp/t && echo can-mount; "
          "mount -t proc proc /tmp/p 2>/dev/null && echo PROC-MOUNTED; "
          "mount -t sysfs sysfs /tmp/p 2>/dev/null && echo SYSFS-MOUNTED'; true")


@pytest.mark.parametrize("no_pivot", [False, True], ids=["pivot", "no-pivot"])
def test_no_fresh_procfs_behind_the_masks(any_rt, bundle, no_pivot):
    """runc's msMoveRoot: with --no-pivot the host's own procfs and sysfs stay in the
    container's mount namespace (under the chroot) unless the runtime detaches them."""
    bundle.own_rootfs()
    for key in ("bounding", "effective", "permitted"):   # enough to map root in a userns
        bundle.process["capabilities"][key] += ["CAP_SETUID", "CAP_SETGID", "CAP_SETFCAP"]
    bundle.sh(NESTED)
    p = any_rt("run", *(["--no-pivot"] if no_pivot else []), "-b", bundle.path, bundle.id)
    assert p.returncode == 0, p.stderr
    assert p.stdout.split() == ["can-mount"], p.stderr
    assert os.path.ismount("/proc") and os.path.ismount("/sys")   # the host keeps them
