"""The tmpcopyup mount option (podman --read-only): a tmpfs on a directory of the image
starts with a copy of what the image had there, and symlinks are copied, never followed."""

from __future__ import annotations

import os

import pytest

from tests.support import leaks
from tests.support.runtime import is_pyrunc

OPTIONS = ["rw", "rprivate", "nosuid", "nodev", "tmpcopyup"]


@pytest.fixture
def image(bundle):
    """A bundle whose own rootfs has /data with a file, a subdir and symlinks."""
    root = bundle.own_rootfs()
    data = os.path.join(root, "data")
    os.makedirs(os.path.join(data, "sub", "deep"))
    with open(os.path.join(data, "file"), "w") as f:
        f.write("from the image\n")
    with open(os.path.join(data, "sub", "deep", "leaf"), "w") as f:
        f.write("leaf\n")
    os.chmod(os.path.join(data, "file"), 0o604)
    os.chown(os.path.join(data, "file"), 12, 34)
    os.chmod(os.path.join(data, "sub"), 0o751)
    os.chown(os.path.join(data, "sub"), 5, 6)
    os.chmod(data, 0o715)
    os.symlink("sub/deep/leaf", os.path.join(data, "rel"))
    os.symlink("/", os.path.join(data, "abs"))  # followed, it would copy the whole rootfs
    os.symlink("../../../../etc", os.path.join(data, "up"))
    bundle.config["mounts"].append({"destination": "/data", "type": "tmpfs", "source": "tmpfs",
                                    "options": list(OPTIONS)})
    bundle.save()
    return bundle, root


def _run(rt, bundle, script: str) -> str:
    bundle.sh(script)
    p = rt("run", "-b", bundle.path, bundle.id)
    assert p.returncode == 0, p.stderr
    return p.stdout


def test_tmpfs_starts_with_the_image_content(rt, image):
    bundle, _ = image
    out = _run(rt, bundle, "cat /data/file /data/rel /data/sub/deep/leaf; "
                           "stat -c '%n %a %u %g %F' /data/file /data/sub; "
                           "for l in rel abs up; do readlink /data/$l; done; "
                           "ls /data | wc -l")
    lines = out.splitlines()
    assert lines[:3] == ["from the image", "leaf", "leaf"]
    assert lines[3:5] == ["/data/file 604 12 34 regular file",
                          "/data/sub 751 5 6 directory"]
    assert lines[5:8] == ["sub/deep/leaf", "/", "../../../../etc"]
    assert lines[8].strip() == "5"  # file sub rel abs up, and nothing else


def test_the_mountpoint_keeps_the_image_directory_mode(rt, image):
    bundle, _ = image
    assert _run(rt, bundle, "stat -c %a /data").strip() == "715"  # not tmpfs's 1777


def test_it_is_a_tmpfs_with_the_mount_flags(rt, image):
    bundle, _ = image
    out = _run(rt, bundle, "grep ' /data ' /proc/self/mountinfo")
    fields = out.split()
    assert fields[fields.index("-") + 1] == "tmpfs"
    assert {"rw", "nosuid", "nodev"} <= set(fields[5].split(","))


def test_writes_stay_in_the_tmpfs(rt, image):
    bundle, root = image
    _run(rt, bundle, "echo changed > /data/file; touch /data/new /data/sub/new; rm /data/rel")
    data = os.path.join(root, "data")
    with open(os.path.join(data, "file")) as f:
        assert f.read() == "from the image\n"
    assert not os.path.exists(os.path.join(data, "new"))
    assert not os.path.exists(os.path.join(data, "sub", "new"))
    assert os.path.islink(os.path.join(data, "rel"))


def test_read_only_tmpfs_is_filled_then_read_only(rt, image):
    bundle, _ = image
    bundle.config["mounts"][-1]["options"] = ["ro", "tmpcopyup"]
    out = _run(rt, bundle, "cat /data/file; touch /data/x 2>/dev/null || echo refused")
    assert out.split("\n")[:2] == ["from the image", "refused"]


def test_missing_destination_gives_an_empty_tmpfs(rt, bundle):
    bundle.config["mounts"].append({"destination": "/fresh/dir", "type": "tmpfs",
                                    "source": "tmpfs", "options": list(OPTIONS)})
    bundle.own_rootfs()
    out = _run(rt, bundle, "ls -A /fresh/dir | wc -l; grep -c ' /fresh/dir ' /proc/self/mountinfo")
    assert out.split() == ["0", "1"]


def test_a_destination_symlink_cannot_reach_the_host(rt, bundle, tmp_path):
    """/out -> ../../<host dir>: resolved inside the rootfs, as runc does; the host
    directory of that name is neither copied nor covered."""
    host = tmp_path / "host-secret"
    host.mkdir()
    (host / "marker").write_text("host\n")
    root = bundle.own_rootfs()
    os.makedirs(os.path.join(root, str(host).lstrip("/")))
    os.symlink("../" * 8 + str(host).lstrip("/"), os.path.join(root, "out"))
    bundle.config["mounts"].append({"destination": "/out", "type": "tmpfs", "source": "tmpfs",
                                    "options": list(OPTIONS)})
    out = _run(rt, bundle, f"ls -A /out | wc -l; touch /out/x; grep -c ' {host} ' "
                           "/proc/self/mountinfo")
    assert out.split() == ["0", "1"]
    assert sorted(os.listdir(host)) == ["marker"]
    assert not leaks.mounts_mentioning(str(host))


@pytest.mark.skipif(not is_pyrunc(), reason="runc 1.1.5 fails on a fifo (lchown of a file "
                                            "it did not create)")
def test_fifos_are_recreated(rt, image):
    bundle, root = image
    os.mkfifo(os.path.join(root, "data", "fifo"))
    os.chmod(os.path.join(root, "data", "fifo"), 0o620)
    out = _run(rt, bundle, "stat -c '%a %F' /data/fifo")
    assert out.strip() == "620 fifo"
