"""process.user (uid, gid, additionalGids, umask), process.cwd and process.env on
real containers, checked from outside (/proc/<pid>/status) and inside (busybox)."""

from __future__ import annotations

import os
import subprocess

from tests.security.helpers import created, output, status


def test_uid_gid_and_additional_gids_from_outside(rt, bundle):
    bundle.process["user"] = {"uid": 1000, "gid": 1001, "additionalGids": [20, 30]}
    bundle.save()
    st = status(created(rt, bundle))
    assert st["Uid"].split() == ["1000"] * 4
    assert st["Gid"].split() == ["1001"] * 4
    assert st["Groups"].split() == ["20", "30"]


def test_uid_gid_and_groups_inside(rt, bundle):
    bundle.process["user"] = {"uid": 1000, "gid": 1001, "additionalGids": [20, 30]}
    out = output(rt, bundle.save(), "id -u; id -g; id -G")
    assert out.split("\n")[:3] == ["1000", "1001", "20 30"] or \
        out.split("\n")[:3] == ["1000", "1001", "1001 20 30"]


def test_root_without_additional_gids_has_no_groups(rt, bundle):
    st = status(created(rt, bundle))
    assert st["Uid"].split() == ["0"] * 4
    assert st["Groups"] == ""


def test_umask(rt, bundle):
    bundle.process["user"] = {"uid": 0, "gid": 0, "umask": 0o027}
    assert output(rt, bundle.save(), "umask").strip() == "0027"


def test_default_umask_is_0022(rt, bundle):
    assert output(rt, bundle, "umask").strip() == "0022"


def test_cwd(rt, bundle):
    bundle.process["cwd"] = "/tmp"
    assert output(rt, bundle.save(), "pwd").strip() == "/tmp"


def test_missing_cwd_is_created(rt, bundle):
    rootfs = bundle.own_rootfs()
    bundle.process["cwd"] = "/work/dir"
    assert output(rt, bundle.save(), "pwd").strip() == "/work/dir"
    assert os.path.isdir(os.path.join(rootfs, "work/dir"))


def test_cwd_only_root_can_enter_works_for_a_user(rt, bundle):
    # runc changes directory before dropping to the user, so a 0700 root-owned
    # cwd is fine; the user can't list it afterwards.
    rootfs = bundle.own_rootfs()
    os.mkdir(os.path.join(rootfs, "secret"), 0o700)
    bundle.process["cwd"] = "/secret"
    bundle.process["user"] = {"uid": 1000, "gid": 1000}
    out = output(rt, bundle.save(), "pwd; ls . >/dev/null 2>&1 || echo denied")
    assert out.split() == ["/secret", "denied"]


def test_env_last_duplicate_wins_and_home_from_passwd(rt, bundle):
    bundle.process["env"] = ["PATH=/bin", "A=1", "B=2", "A=3"]
    out = output(rt, bundle.save(), "env")
    env = dict(line.split("=", 1) for line in out.splitlines())
    assert env["A"] == "3"
    assert env["B"] == "2"
    assert env["HOME"] == "/root"
    assert [k for k in env if k == "A"] == ["A"]


def test_env_home_for_an_unknown_user_is_root_dir(rt, bundle):
    bundle.process["env"] = ["PATH=/bin"]
    bundle.process["user"] = {"uid": 4242, "gid": 4242}
    out = output(rt, bundle.save(), "echo $HOME")
    assert out.strip() == "/"


def test_env_given_home_is_kept(rt, bundle):
    bundle.process["env"] = ["PATH=/bin", "HOME=/tmp"]
    assert output(rt, bundle.save(), "echo $HOME").strip() == "/tmp"


def test_stdio_is_given_to_the_user(rt, bundle, tmp_path):
    # So that a non-root process can use the console it was given (runc's
    # fixStdioPermissions): a detached container inherits the caller's stdio.
    bundle.process["user"] = {"uid": 1000, "gid": 1000}
    bundle.sh("echo hi").save()
    out = tmp_path / "out"
    err = tmp_path / "err"
    with open(out, "w") as f, open(err, "w") as e:
        p = subprocess.run(rt.cmd("create", "-b", bundle.path, bundle.id), stdout=f,
                           stderr=e, stdin=subprocess.DEVNULL, timeout=30)
    assert p.returncode == 0, err.read_text()
    assert os.stat(out).st_uid == 1000
    rt("start", bundle.id, check=True)
    rt.wait_status(bundle.id, "stopped")
    assert out.read_text() == "hi\n"


def test_dev_null_stdio_is_left_alone(rt, bundle):
    bundle.process["user"] = {"uid": 1000, "gid": 1000}
    bundle.save()
    before = os.stat("/dev/null")
    p = subprocess.run(rt.cmd("create", "-b", bundle.path, bundle.id),
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       stdin=subprocess.DEVNULL, timeout=30)
    assert p.returncode == 0
    after = os.stat("/dev/null")
    assert (after.st_uid, after.st_gid, after.st_mode) == \
        (before.st_uid, before.st_gid, before.st_mode)
