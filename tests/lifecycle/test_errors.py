"""Bad input: one clear line on stderr, non-zero exit, nothing left behind."""

from __future__ import annotations

import json
import os

import pytest

from tests.support import leaks
from tests.support.runtime import is_pyrunc


def assert_nothing_left(rt, cgroup_parent: str, cid: str) -> None:
    assert cid not in rt.ids()
    assert not os.path.exists(os.path.join(rt.root, cid))
    assert not [d for d in leaks.cgroup_dirs(cgroup_parent) if cid in d]
    assert not leaks.mounts_mentioning(cid)


def assert_one_clear_line(p) -> None:
    assert p.returncode != 0
    lines = [x for x in p.stderr.splitlines() if x.strip()]
    assert len(lines) == 1, p.stderr
    assert "Traceback" not in p.stderr


def test_missing_bundle(rt, tmp_path, cgroup_parent):
    p = rt("create", "-b", str(tmp_path / "nope"), "x1")
    assert_one_clear_line(p)
    assert_nothing_left(rt, cgroup_parent, "x1")


def test_missing_config(rt, tmp_path, cgroup_parent):
    p = rt("create", "-b", str(tmp_path), "x2")
    assert_one_clear_line(p)
    assert "config.json" in p.stderr
    assert_nothing_left(rt, cgroup_parent, "x2")


def test_bad_json(rt, bundle, cgroup_parent):
    with open(os.path.join(bundle.path, "config.json"), "w") as f:
        f.write('{"ociVersion": "1.0.2", "process": ')
    p = rt("create", "-b", bundle.path, bundle.id)
    assert_one_clear_line(p)
    assert_nothing_left(rt, cgroup_parent, bundle.id)


@pytest.mark.parametrize("mutate, words", [
    (lambda c: c["process"].__setitem__("args", "not-a-list"), "args"),
    (lambda c: c.__delitem__("ociVersion"), "ociVersion"),
    (lambda c: c["linux"]["namespaces"].append({"type": "bogus"}), "namespaces"),
    (lambda c: c["process"]["user"].__setitem__("uid", -1), "uid"),
])
def test_schema_violations_name_the_field(rt, bundle, cgroup_parent, mutate, words):
    if words == "ociVersion" and not is_pyrunc():
        pytest.skip("runc does not require ociVersion; pyrunc follows the schema")
    mutate(bundle.config)
    bundle.save()
    p = rt("create", "-b", bundle.path, bundle.id)
    assert_one_clear_line(p)
    if is_pyrunc():
        assert words in p.stderr
    assert_nothing_left(rt, cgroup_parent, bundle.id)


def test_missing_rootfs(rt, bundle, cgroup_parent):
    bundle.config["root"]["path"] = "/nonexistent-rootfs"
    bundle.save()
    p = rt("create", "-b", bundle.path, bundle.id)
    assert_one_clear_line(p)
    assert_nothing_left(rt, cgroup_parent, bundle.id)


def test_missing_binary_fails_create(rt, bundle, cgroup_parent):
    bundle.args("/bin/definitely-not-here")
    p = rt("create", "-b", bundle.path, bundle.id)
    assert_one_clear_line(p)
    assert "definitely-not-here" in p.stderr
    assert_nothing_left(rt, cgroup_parent, bundle.id)


def test_binary_not_in_path(rt, bundle, cgroup_parent):
    bundle.args("no-such-command")
    p = rt("create", "-b", bundle.path, bundle.id)
    assert_one_clear_line(p)
    assert "no-such-command" in p.stderr
    assert "executable file not found in $PATH" in p.stderr
    assert_nothing_left(rt, cgroup_parent, bundle.id)


def test_bind_mount_of_missing_source(rt, bundle, cgroup_parent):
    bundle.config["mounts"].append({"destination": "/data", "type": "bind",
                                    "source": "/nonexistent-src", "options": ["rbind"]})
    bundle.save()
    p = rt("create", "-b", bundle.path, bundle.id)
    assert_one_clear_line(p)
    assert_nothing_left(rt, cgroup_parent, bundle.id)


@pytest.mark.parametrize("command", [["state"], ["start"], ["kill", "KILL"], ["delete"]])
def test_unknown_id(rt, command):
    p = rt(command[0], "no-such-id", *command[1:])
    assert_one_clear_line(p)
    assert "does not exist" in p.stderr


def test_invalid_id(rt, bundle):
    p = rt("create", "-b", bundle.path, "bad/id")
    assert_one_clear_line(p)
    assert not os.path.exists(os.path.join(rt.root, "bad"))


def test_unknown_flag(rt):
    p = rt("list", "--bogus")
    assert p.returncode != 0
    assert "flag provided but not defined: -bogus" in p.stderr


def test_wrong_argument_count(rt):
    p = rt("start")
    assert p.returncode != 0
    assert "start" in p.stderr and "requires exactly 1 argument(s)" in p.stderr


def test_json_log_gets_the_error(rt, tmp_path):
    log = tmp_path / "log.json"
    p = rt("state", "no-such-id", log=str(log))
    assert p.returncode != 0
    entries = [json.loads(line) for line in log.read_text().splitlines()]
    assert entries[-1]["level"] == "error"
    assert "does not exist" in entries[-1]["msg"]
    assert "time" in entries[-1]


def test_version_lines(rt):
    p = rt("--version", check=True)
    lines = p.stdout.splitlines()
    assert lines[0].split()[1] == "version"
    assert lines[1].startswith("commit:")
    assert lines[2].startswith("spec: 1.")


def test_spec_writes_runc_default(tmp_path):
    import subprocess

    from tests.support.runtime import binary

    mine, theirs = tmp_path / "mine", tmp_path / "runc"
    mine.mkdir()
    theirs.mkdir()
    subprocess.run([binary(), "spec"], cwd=mine, check=True)
    subprocess.run(["runc", "spec"], cwd=theirs, check=True)
    a = json.loads((mine / "config.json").read_text())
    b = json.loads((theirs / "config.json").read_text())
    a.pop("ociVersion")
    b.pop("ociVersion")
    assert a == b
    p = subprocess.run([binary(), "spec"], cwd=mine, capture_output=True, text=True)
    assert p.returncode != 0 and "exists" in p.stderr
