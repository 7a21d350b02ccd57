"""Recursive mount attributes (rro, rnosuid, ...: mount_setattr with AT_RECURSIVE) and
idmapped bind mounts (uidMappings/gidMappings, idmap, ridmap) on real containers."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile

import pytest

from runtime.process import mount_options
from tests.support import leaks


@pytest.fixture
def tree(tmp_path):
    """A host directory with a file owned by 0, one owned by 5, and a tmpfs submount."""
    src = tmp_path / "src"
    (src / "sub").mkdir(parents=True)
    (src / "file").write_text("hi\n")
    (src / "f5").write_text("five\n")
    os.chown(src / "f5", 5, 5)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m,mode=0755", "pyrunc-test-sub",
                    str(src / "sub")], check=True)
    yield str(src)
    subprocess.run(["umount", "-l", str(src / "sub")], check=False)


def _bind(dest: str, source: str, *options: str, **extra) -> dict:
    return {"destination": dest, "type": "bind", "source": source, "options": list(options),
            **extra}


def _run(rt, bundle, script: str) -> str:
    bundle.sh(script)
    p = rt("run", "-b", bundle.path, bundle.id)
    assert p.returncode == 0, p.stderr
    return p.stdout


def _opts(mountinfo: str, target: str) -> set[str]:
    for line in mountinfo.splitlines():
        fields = line.split()
        if fields[4] == target:
            return set(fields[5].split(","))
    raise AssertionError(f"{target} is not mounted:\n{mountinfo}")


def test_rro_makes_the_whole_tree_read_only_where_ro_does_not(rt, bundle, tree):
    bundle.config["mounts"] += [_bind("/plain", tree, "rbind", "ro"),
                                _bind("/rec", tree, "rbind", "rro")]
    out = _run(rt, bundle, "touch /plain/sub/a && echo plain-sub-rw; "
                           "touch /rec/sub/b || echo rec-sub-ro; touch /rec/c || echo rec-ro")
    assert out.split() == ["plain-sub-rw", "rec-sub-ro", "rec-ro"]


def test_recursive_attributes_reach_submounts(rt, bundle, tree):
    bundle.config["mounts"].append(_bind("/rec", tree, "rbind", "rnosuid", "rnodev", "rnoexec",
                                         "rnoatime", "rnosymfollow", "rnodiratime"))
    info = _run(rt, bundle, "cat /proc/self/mountinfo")
    for target in ("/rec", "/rec/sub"):
        assert {"nosuid", "nodev", "noexec", "noatime", "nosymfollow", "nodiratime"} \
            <= _opts(info, target), target


def test_rrw_clears_read_only_on_submounts(rt, bundle, tree):
    # Read-only as a mount (bind remount), not as a filesystem.
    subprocess.run(["mount", "-o", "remount,bind,ro", os.path.join(tree, "sub")], check=True)
    bundle.config["mounts"].append(_bind("/rec", tree, "rbind", "rrw"))
    out = _run(rt, bundle, "touch /rec/sub/x && echo writable")
    assert out == "writable\n"


def test_recursive_attrs_later_options_win():
    lib = mount_options.lib
    assert mount_options.recursive_attrs(["rro", "rrw"]) == (0, lib.MOUNT_ATTR_RDONLY)
    # An atime setting clears the whole atime field; clearing relatime is a no-op.
    assert mount_options.recursive_attrs(["rnoatime"]) == (lib.MOUNT_ATTR_NOATIME,
                                                           lib.MOUNT_ATTR__ATIME)
    assert mount_options.recursive_attrs(["rnoatime", "rstrictatime"]) == (
        lib.MOUNT_ATTR_STRICTATIME, lib.MOUNT_ATTR__ATIME)
    assert mount_options.recursive_attrs(["rnorelatime"]) == (0, 0)
    assert mount_options.parse(["rbind", "rro", "idmap", "size=1"])[2] == "size=1"


def _ids(listing: str) -> dict[str, tuple[str, str]]:
    """`ls -ln` -> name: (uid, gid)."""
    out = {}
    for line in listing.splitlines():
        f = line.split()
        if len(f) >= 9:
            out[f[-1]] = (f[2], f[3])
    return out


MAPS = {"uidMappings": [{"containerID": 0, "hostID": 1000, "size": 10}],
        "gidMappings": [{"containerID": 0, "hostID": 2000, "size": 10}]}


def test_an_idmapped_mount_shows_ids_through_its_mapping(rt, bundle, tree):
    bundle.config["mounts"].append(_bind("/idm", tree, "rbind", "idmap", **MAPS))
    out = _run(rt, bundle, "ls -ln /idm; grep ' /idm ' /proc/self/mountinfo")
    ids = _ids(out)
    assert ids["file"] == ("1000", "2000")
    assert ids["f5"] == ("1005", "2005")
    assert "idmapped" in out
    # The host's view of the source is unchanged.
    assert os.stat(os.path.join(tree, "f5")).st_uid == 5


def test_idmap_maps_only_the_top_mount_and_ridmap_the_whole_tree(rt, bundle, tree):
    bundle.config["mounts"] += [_bind("/top", tree, "rbind", "idmap", **MAPS),
                                _bind("/all", tree, "rbind", "ridmap", **MAPS)]
    out = _run(rt, bundle, "stat -c '%n %u' /top/sub /all/sub")
    assert out.split("\n")[:2] == ["/top/sub 0", "/all/sub 1000"]


@pytest.fixture
def reachable(rootfs):
    """A rootfs and a source tree every uid can reach (the container's root is
    nobody on the host, and pytest's temporary directories are private to root)."""
    top = tempfile.mkdtemp(prefix="pyrunc-idmap-")
    os.chmod(top, 0o755)
    shutil.copytree(rootfs, os.path.join(top, "rootfs"), symlinks=True)
    src = os.path.join(top, "src")
    os.mkdir(src)
    for name, uid in (("file", 0), ("f5", 5)):
        with open(os.path.join(src, name), "w") as f:
            f.write(name)
        os.chown(os.path.join(src, name), uid, uid)
    yield os.path.join(top, "rootfs"), src
    shutil.rmtree(top)


def test_idmap_without_mappings_uses_the_container_user_namespace(rt, bundle, reachable):
    bundle.config["root"]["path"], tree = reachable
    bundle.linux["namespaces"].append({"type": "user"})
    bundle.linux["uidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 65536}]
    bundle.linux["gidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 65536}]
    bundle.config["mounts"] += [_bind("/idm", tree, "bind", "idmap"),
                                _bind("/plain", tree, "bind")]
    out = _run(rt, bundle, "stat -c '%n %u' /idm/file /plain/file /idm/f5")
    assert out.split("\n")[:3] == ["/idm/file 0", "/plain/file 65534", "/idm/f5 5"]


@pytest.mark.parametrize("mount, message", [
    (_bind("/idm", "/tmp", "bind", "idmap"), "needs the container to have a user namespace"),
    ({"destination": "/idm", "type": "tmpfs", "source": "tmpfs", "options": ["idmap"], **MAPS},
     "bind mounts only"),
    (_bind("/idm", "/tmp", "bind", "idmap", uidMappings=MAPS["uidMappings"]),
     "gidMappings"),
])
def test_impossible_idmapped_mounts_fail_create_and_leave_nothing(rt, bundle, mount, message):
    bundle.config["mounts"].append(mount)
    bundle.save()
    p = rt("create", "-b", bundle.path, bundle.id)
    assert p.returncode == 1
    assert message in p.stderr
    assert rt.ids() == []
    assert leaks.cgroup_dirs(bundle.linux["cgroupsPath"]) == []
