"""pyrunc and runc as an unprivileged user (issue 19): runc's rootless behaviour, and
nothing the user could not do without a runtime.  Each test runs against both."""

from __future__ import annotations

import json
import os
import stat
import subprocess

import pytest

from tests.robustness.leftovers import assert_one_clear_line
from tests.support import leaks, rootless
from tests.support.runtime import REPO


def _pyrunc(rt) -> bool:
    return os.path.basename(rt.path).startswith("pyrunc")


def _nothing_left(rt, b) -> None:
    root = rt.root or rt.default_root
    assert not os.path.lexists(os.path.join(root, b.id)), "state dir left"
    assert leaks.processes_mentioning(b.id) == []
    assert leaks.mounts_mentioning(b.path) == []
    for h in os.listdir("/sys/fs/cgroup"):
        for top, dirs, _ in os.walk(os.path.join("/sys/fs/cgroup", h)):
            assert not any(b.id in d for d in dirs), f"cgroup {top}/{b.id}"
            if top.count("/") > 6:
                dirs[:] = []


def _owned_by_user(path: str, uid: int) -> None:
    for top, dirs, files in os.walk(path):
        for name in [top, *(os.path.join(top, n) for n in dirs + files)]:
            st = os.lstat(name)
            assert st.st_uid == uid, f"{name} is uid {st.st_uid}'s"


# -- runc's rootless behaviour ------------------------------------------------------
def test_spec_rootless_is_runcs(user, home):
    """`spec --rootless` as the user: runc's document but for the ociVersion."""
    docs = []
    for binary in (os.path.join(REPO, ".venv", "bin", "pyrunc"), "/usr/sbin/runc"):
        d = os.path.join(home, os.path.basename(binary))
        os.mkdir(d)
        rootless.give(d, user)
        subprocess.run(rootless.as_user([binary, "spec", "--rootless"], user), cwd=d, check=True)
        with open(os.path.join(d, "config.json")) as f:
            doc = json.load(f)
        doc.pop("ociVersion")
        docs.append(doc)
    assert docs[0] == docs[1]
    uid = rootless.entry(user).pw_uid
    assert docs[0]["linux"]["uidMappings"] == [{"containerID": 0, "hostID": uid, "size": 1}]


def test_run_with_the_default_root_in_xdg_runtime_dir(user, ubundle):
    """No --root: $XDG_RUNTIME_DIR/pyrunc as runc's $XDG_RUNTIME_DIR/runc, made 0700 with the
    sticky bit; every file in it the user's; no cgroup (v1 has none the user may write)."""
    from tests.rootless.conftest import AsUser
    from tests.support.runtime import under_test_and_runc

    uid = rootless.entry(user).pw_uid
    for binary in under_test_and_runc():
        rt = AsUser(None, binary, user)
        ubundle.sh("cat /proc/self/uid_map; sleep 100")
        try:
            rt("run", "-d", "-b", ubundle.path, ubundle.id, check=True)
            root = rt.default_root
            st = os.stat(root)
            assert stat.S_IMODE(st.st_mode) == 0o1700 and st.st_uid == uid
            _owned_by_user(root, uid)
            assert rt.state(ubundle.id)["status"] == "running"
            listed = json.loads(rt("list", "-f", "json", check=True).stdout)
            assert [c["owner"] for c in listed if c["id"] == ubundle.id] == [user]
        finally:
            rt("delete", "-f", ubundle.id)
        _nothing_left(rt, ubundle)


def test_lifecycle_exec_ps_kill_delete(urt, ubundle):
    ubundle.sh("echo started; sleep 100")
    urt("create", "-b", ubundle.path, ubundle.id, check=True)
    assert urt.status(ubundle.id) == "created"
    urt("start", ubundle.id, check=True)
    assert urt.status(ubundle.id) == "running"
    p = urt("exec", ubundle.id, "sh", "-c", "id -u; cat /proc/self/uid_map")
    assert p.returncode == 0, p.stderr
    uid = rootless.entry(urt.user).pw_uid
    assert p.stdout.split() == ["0", "0", str(uid), "1"]
    p = urt("ps", ubundle.id)
    assert "ps may fail if you don't have the full access to cgroups" in p.stderr
    if _pyrunc(urt):
        # runc 1.1 fails: it lists a container's processes from its cgroups, which a
        # rootless container on v1 has none of; pyrunc, from its pid namespace
        assert p.returncode == 0, p.stderr
        assert str(urt.state(ubundle.id)["pid"]) in p.stdout
    urt("kill", ubundle.id, "KILL", check=True)
    urt.wait_status(ubundle.id, "stopped")
    urt("delete", ubundle.id, check=True)
    _nothing_left(urt, ubundle)


def test_kill_all(urt, ubundle):
    """Without cgroups pyrunc finds the processes by the container's pid namespace;
    runc 1.1 fails (it lists them from its cgroups)."""
    ubundle.sh("sleep 100 & sleep 100 & wait")
    urt("run", "-d", "-b", ubundle.path, ubundle.id, check=True)
    p = urt("kill", "--all", ubundle.id, "KILL")
    if _pyrunc(urt):
        assert p.returncode == 0, p.stderr
        urt.wait_status(ubundle.id, "stopped")
    else:
        assert p.returncode != 0
    urt("delete", "-f", ubundle.id, check=True)
    _nothing_left(urt, ubundle)


def test_subordinate_ranges_through_newuidmap(urt, ubundle):
    """Several ranges, from /etc/subuid and /etc/subgid: written by newuidmap and
    newgidmap; setgroups stays allowed."""
    pw = rootless.entry(urt.user)
    start = _subid_start(urt.user, "/etc/subuid")
    gstart = _subid_start(urt.user, "/etc/subgid")
    linux = ubundle.config["linux"]
    linux["uidMappings"] = [{"containerID": 0, "hostID": pw.pw_uid, "size": 1},
                            {"containerID": 1, "hostID": start, "size": 65536}]
    linux["gidMappings"] = [{"containerID": 0, "hostID": pw.pw_gid, "size": 1},
                            {"containerID": 1, "hostID": gstart, "size": 65536}]
    for kind in ("bounding", "effective", "permitted"):
        ubundle.config["process"]["capabilities"][kind].append("CAP_CHOWN")
    ubundle.sh("cat /proc/self/uid_map /proc/self/gid_map /proc/self/setgroups; "
               "chown 1000:1000 /tmp && stat -c %u:%g /tmp")
    p = urt("run", "-b", ubundle.path, ubundle.id)
    assert p.returncode == 0, p.stderr
    assert p.stdout.split() == ["0", str(pw.pw_uid), "1", "1", str(start), "65536",
                                "0", str(pw.pw_gid), "1", "1", str(gstart), "65536",
                                "allow", "1000:1000"]
    assert os.stat(os.path.join(ubundle.path, "rootfs", "tmp")).st_uid == start + 999
    _nothing_left(urt, ubundle)


def test_single_mapping_denies_setgroups(urt, ubundle):
    ubundle.sh("cat /proc/self/setgroups; id -G")
    p = urt("run", "-b", ubundle.path, ubundle.id)
    assert p.returncode == 0, p.stderr
    assert p.stdout.split() == ["deny", "0"]


def test_devices_are_the_hosts_bound(urt, ubundle):
    """No mknod in a user namespace: /dev/null and the others are bind mounts of the
    host's nodes, which work."""
    ubundle.sh("echo x > /dev/null && head -c 4 /dev/zero | wc -c && "
               "grep -c ' /dev/null ' /proc/self/mountinfo")
    p = urt("run", "-b", ubundle.path, ubundle.id)
    assert p.returncode == 0, p.stderr
    assert p.stdout.split() == ["4", "1"]


# -- nothing the user could not do without a runtime -----------------------------------
def test_mapping_the_user_is_not_allowed(urt, ubundle):
    """uid 0 of the host, or subordinate ids that are not the user's: refused (newuidmap
    checks /etc/subuid); one line, nothing left."""
    for host_id in (0, _subid_start(urt.user, "/etc/subuid") + 65536 * 16):
        ubundle.config["linux"]["uidMappings"] = [{"containerID": 0, "hostID": host_id,
                                                   "size": 1}]
        ubundle.save()
        p = urt("run", "-b", ubundle.path, ubundle.id)
        assert p.returncode != 0
        if _pyrunc(urt):
            line = assert_one_clear_line(p)
            assert "newuidmap" in line and "not allowed" in line, line
        _nothing_left(urt, ubundle)


def test_cgroups_path_the_user_may_not_write(urt, ubundle):
    """An explicit cgroupsPath is not ignored (runc's rule): it fails where the user
    may not write, and creates nothing."""
    ubundle.config["linux"]["cgroupsPath"] = f"/pyrunc-rl-denied/{ubundle.id}"
    ubundle.sh("sleep 100")
    p = urt("run", "-d", "-b", ubundle.path, ubundle.id)
    assert p.returncode != 0
    assert "permission denied" in p.stderr.lower()
    if _pyrunc(urt):
        assert_one_clear_line(p)
    _nothing_left(urt, ubundle)
    assert leaks.cgroup_dirs("/pyrunc-rl-denied") == []


def test_state_root_the_user_may_not_write(urt, ubundle):
    """--root in root's directory: refused before anything is made."""
    own, urt.root = urt.root, "/run/pyrunc-rl-root-owned"
    p = urt("run", "-b", ubundle.path, ubundle.id)
    urt.root = own
    assert p.returncode != 0
    assert "permission denied" in p.stderr.lower()
    if _pyrunc(urt):
        assert_one_clear_line(p)
    assert not os.path.exists("/run/pyrunc-rl-root-owned")
    _nothing_left(urt, ubundle)


@pytest.fixture
def roots_dir():
    """A directory of root's, 0700."""
    import shutil
    import tempfile

    d = tempfile.mkdtemp(prefix="pyrunc-rl-roots-", dir="/tmp")
    os.chmod(d, 0o700)
    yield d
    shutil.rmtree(d, ignore_errors=True)


def test_log_file_the_user_may_not_write(urt, ubundle, roots_dir):
    """--log naming a file in root's directory: not created, one line on stderr."""
    log = os.path.join(roots_dir, "root-owned.log")
    p = subprocess.run(urt.wrap([urt.path, "--root", urt.root, "--log", log, "run", "-b",
                                 ubundle.path, ubundle.id]),
                       capture_output=True, text=True, timeout=60)
    assert p.returncode != 0
    assert not os.path.exists(log)
    if _pyrunc(urt):
        assert_one_clear_line(p)
    _nothing_left(urt, ubundle)


def test_rootfs_the_user_may_not_reach(urt, ubundle, roots_dir):
    """root.path in a directory of root's (0700): refused."""
    rootfs = os.path.join(roots_dir, "rootfs")
    os.mkdir(rootfs)
    ubundle.config["root"]["path"] = rootfs
    ubundle.save()
    p = urt("run", "-b", ubundle.path, ubundle.id)
    assert p.returncode != 0
    assert "permission denied" in p.stderr.lower(), p.stderr
    if _pyrunc(urt):
        assert_one_clear_line(p)
    _nothing_left(urt, ubundle)


@pytest.mark.parametrize("source", ["/root", "/etc/shadow"])
def test_bind_of_a_root_owned_path_reveals_nothing(urt, ubundle, source):
    """A bind mount of a path of root's: mounting needs only search permission, but in
    the container it is nobody's and as closed as on the host."""
    ubundle.config["mounts"].append({"destination": "/secret", "type": "bind",
                                     "source": source, "options": ["rbind", "ro"]})
    ubundle.sh("if [ -d /secret ]; then ls /secret; else cat /secret; fi; echo rc=$?")
    p = urt("run", "-b", ubundle.path, ubundle.id)
    if p.returncode == 0:
        assert p.stdout.strip().splitlines()[-1] != "rc=0", p.stdout
        assert "Permission denied" in p.stderr, p.stderr
    _nothing_left(urt, ubundle)


def test_no_setuid_file_of_ours():
    """pyrunc ships no setuid or setgid helper: the user's mappings go through the
    distribution's newuidmap/newgidmap only."""
    found = []
    for top in ("runtime", "spec", ".venv/bin"):
        for d, _, files in os.walk(os.path.join(REPO, top)):
            for f in files:
                st = os.lstat(os.path.join(d, f))
                if stat.S_ISREG(st.st_mode) and st.st_mode & (stat.S_ISUID | stat.S_ISGID):
                    found.append(os.path.join(d, f))
    assert found == []


def _subid_start(user: str, path: str) -> int:
    with open(path) as f:
        for line in f:
            name, start, _ = line.strip().split(":")
            if name == user:
                return int(start)
    raise AssertionError(f"{user} has no range in {path}")



def test_rootless_flag_values(urt, ubundle):
    """--rootless takes Go's boolean spellings and auto; anything else fails the
    commands that need it with runc's words, and not `list`."""
    p = urt("--rootless", "bogus", "run", "-b", ubundle.path, ubundle.id)
    assert p.returncode != 0
    assert r"strconv.ParseBool: parsing \"bogus\": invalid syntax" in p.stderr  # msg quoted
    _nothing_left(urt, ubundle)
    assert urt("--rootless", "bogus", "list").returncode == 0
    for value in ("true", "1", "auto"):
        p = urt("--rootless", value, "run", "-b", ubundle.path, ubundle.id)
        assert p.returncode == 0, (value, p.stderr)


@pytest.mark.parametrize("change,words", [
    (lambda c: c["linux"].update(namespaces=[n for n in c["linux"]["namespaces"]
                                             if n["type"] != "user"],
                                 uidMappings=[], gidMappings=[]),
     "rootless container requires user namespaces"),
    (lambda c: c["mounts"].append({"destination": "/mnt", "type": "tmpfs", "source": "tmpfs",
                                   "options": ["uid=1000"]}),
     "cannot specify uid= mount options for unmapped uid in rootless containers"),
    (lambda c: c["mounts"].append({"destination": "/mnt", "type": "tmpfs", "source": "tmpfs",
                                   "options": ["gid=1000"]}),
     "cannot specify gid= mount options for unmapped gid in rootless containers"),
    (lambda c: c["process"]["user"].update(additionalGids=[0]),
     "cannot set any additional groups in a rootless container"),
], ids=["no user namespace", "unmapped uid option", "unmapped gid option", "additionalGids"])
def test_what_runc_refuses_a_user(urt, ubundle, change, words):
    change(ubundle.config)
    ubundle.save()
    p = urt("run", "-b", ubundle.path, ubundle.id)
    assert p.returncode != 0
    assert words in p.stderr, p.stderr
    if _pyrunc(urt):
        assert_one_clear_line(p)
    _nothing_left(urt, ubundle)


def test_systemd_cgroup_where_a_user_cannot_have_it(urt, ubundle):
    """--systemd-cgroup as the user needs systemd and cgroup v2 (the user's delegated
    subtree): elsewhere runc's words, one line, nothing left (tests/rootless/
    test_rootless_v2.py covers the host where it works)."""
    v2 = os.path.exists("/sys/fs/cgroup/cgroup.controllers")
    if os.path.isdir("/run/systemd/system"):
        if v2:
            pytest.skip("systemd on cgroup v2 gives the user its subtree: "
                        "test_rootless_v2.py")
        words = "cannot use rootless systemd cgroups manager on cgroup v1"
    else:
        words = "systemd not running on this host, cannot use systemd cgroups manager"
    ubundle.sh("true")
    p = urt("--systemd-cgroup", "run", "-b", ubundle.path, ubundle.id)
    assert p.returncode != 0
    assert words in p.stderr, p.stderr
    if _pyrunc(urt):
        assert_one_clear_line(p)
    _nothing_left(urt, ubundle)
