"""A NUL byte is valid in a JSON string but cannot reach a syscall: C would cut the
string there (a mount at /x for "/x\\u0000y") and Python refuses it with a
ValueError.  Every such field gets one clear line and nothing is left behind."""

from __future__ import annotations

import pytest

from tests.robustness.leftovers import assert_no_bug_output, error_lines, found
from tests.support.runtime import is_pyrunc

pytestmark = pytest.mark.skipif(not is_pyrunc(), reason="pyrunc's own wording is checked")


def _set(config: dict, field: str) -> None:
    if field == "root.path":
        config["root"]["path"] = "root\0fs"
    elif field == "cgroupsPath":
        config["linux"]["cgroupsPath"] += "\0x"
    elif field == "mount destination":
        config["mounts"].append({"destination": "/x\0y", "type": "tmpfs", "source": "tmpfs"})
    elif field == "proc mount destination":  # found by test_fuzz_mounts
        config["mounts"].append({"destination": "a\0b", "type": "proc", "source": "proc"})
    elif field == "mount option":
        config["mounts"].append({"destination": "/x", "type": "tmpfs", "source": "tmpfs",
                                 "options": ["size=1m\0"]})
    elif field == "hostname":
        config["hostname"] = "a\0b"
    elif field == "annotation key":
        config["annotations"] = {"a\0b": "c"}
    elif field == "cwd":
        config["process"]["cwd"] = "/a\0b"
    elif field == "args":
        config["process"]["args"] = ["/bin/true", "a\0b"]
    elif field == "env":
        config["process"]["env"].append("A=b\0c")


@pytest.mark.parametrize("field", ["root.path", "cgroupsPath", "mount destination",
                                   "proc mount destination", "mount option", "hostname",
                                   "annotation key", "cwd", "args", "env"])
def test_nul_byte_is_refused(rt, bundle, cgroup_parent, field):
    _set(bundle.config, field)
    bundle.save()
    p = rt("create", "-b", bundle.path, bundle.id)
    assert p.returncode != 0
    assert_no_bug_output(p)
    lines = error_lines(p.stderr)
    assert len(lines) == 1 and ("nul byte" in lines[0].lower() or "null byte" in lines[0]), p.stderr
    assert found(rt.root, bundle.id, cgroup_parent, bundle.path) == []
