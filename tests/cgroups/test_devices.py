"""Device rules: the v1 emulator (pure) and the effect on a real process."""

from __future__ import annotations

import pytest
from cg_testlib import read, requires_root, requires_v1, unified_dir

from runtime.cgroups import CgroupError, for_container
from runtime.cgroups.devices import WILDCARD, Emulator, Rule, rules_from_oci


def rule(text: str, allow: bool = True) -> Rule:
    type_, numbers, access = text.split()
    major, minor = numbers.split(":")
    return Rule(type_, WILDCARD if major == "*" else int(major),
                WILDCARD if minor == "*" else int(minor), access, allow)


def test_runc_default_devices_follow_the_users_rules():
    rules = rules_from_oci([{"allow": False, "type": "a", "access": "rwm"}])
    assert [r.cgroup_string() for r in rules][:4] == ["a *:* rwm", "c *:* m", "b *:* m",
                                                      "c 1:3 rwm"]
    assert rules[0].allow is False and all(r.allow for r in rules[1:])
    assert len(rules) == 12


def test_a_declared_device_replaces_the_default_with_its_path():
    rules = rules_from_oci([], linux_devices=[{"path": "/dev/null", "type": "c",
                                               "major": 1, "minor": 3}])
    assert "c 1:3 rwm" not in [r.cgroup_string() for r in rules]
    assert "c 1:5 rwm" in [r.cgroup_string() for r in rules]


def test_emulator_whitelist_transition_only_adds_what_is_missing():
    current = Emulator.from_list("c 1:3 rwm\nc 1:5 r\n")
    target = Emulator.from_rules([rule("a *:* rwm", False), rule("c 1:3 rwm"),
                                  rule("c 1:5 rw"), rule("c 1:9 rwm")])
    steps = [(r.allow, r.cgroup_string()) for r in current.transition(target)]
    assert steps == [(True, "c 1:5 w"), (True, "c 1:9 rwm")]


def test_emulator_drops_permissions_no_longer_wanted():
    current = Emulator.from_list("c 1:3 rwm\nc 1:5 rwm\n")
    target = Emulator.from_rules([rule("c 1:3 r")])
    steps = [(r.allow, r.cgroup_string()) for r in current.transition(target)]
    assert steps == [(False, "c 1:3 wm"), (False, "c 1:5 rwm")]


def test_emulator_from_allow_all_resets_first():
    steps = [(r.allow, r.cgroup_string())
             for r in Emulator.from_list("a *:* rwm\n").transition(
                 Emulator.from_rules([rule("c 1:3 rwm")]))]
    assert steps == [(False, "a *:* rwm"), (True, "c 1:3 rwm")]


def test_emulator_blacklist_and_merging():
    emu = Emulator.from_rules([rule("a *:* rwm"), rule("c 1:3 w", False),
                               rule("c 1:3 r", False), rule("c 1:3 w")])
    assert emu.default_allow and emu.exceptions == {("c", 1, 3): "r"}


def test_emulator_cannot_punch_a_hole_in_a_wildcard():
    with pytest.raises(CgroupError, match="wildcard"):
        Emulator.from_rules([rule("c *:* rwm"), rule("c 1:3 r", False)])


# -- real cgroups ---------------------------------------------------------------

OPEN_KMSG = """
import os
try:
    os.close(os.open("/dev/kmsg", os.O_RDONLY | os.O_NONBLOCK))
    print("kmsg ok")
except PermissionError:
    print("kmsg denied")
os.close(os.open("/dev/null", os.O_RDWR))
print("null ok")
"""


def devices_list(mgr) -> list[str] | None:
    """The v1 devices cgroup's devices.list; None on a cgroup2-only host, where the
    rules are an eBPF program with no listing (the effect is checked there)."""
    if unified_dir("/") is not None:
        return None
    return read(mgr.path("devices") + "/devices.list").split("\n")


def run_in(mgr, procs) -> str:
    p = procs.python(OPEN_KMSG)
    mgr.apply(p.pid)
    out, _ = p.communicate(b"go\n", timeout=20)
    return out.decode()


@requires_root
@pytest.mark.parametrize("extra, expect", [
    ([], "kmsg denied"),
    ([{"allow": True, "type": "c", "major": 1, "minor": 11, "access": "r"}], "kmsg ok"),
])
def test_device_rules_take_effect(cg_parent, procs, extra, expect):
    mgr = for_container("c", cg_parent + "/c")
    try:
        mgr.create()
        mgr.set({"devices": [{"allow": False, "access": "rwm"}] + extra})
        listing = devices_list(mgr)
        if listing is not None:
            assert "c 1:3 rwm" in listing and "b *:* m" in listing
            assert ("c 1:11 r" in listing) == bool(extra)
        out = run_in(mgr, procs)
        assert expect in out and "null ok" in out
    finally:
        procs.stop_all()
        mgr.destroy()


@requires_root
def test_allow_all_then_deny_one(cg_parent, procs):
    mgr = for_container("c", cg_parent + "/c")
    try:
        mgr.create()
        mgr.set({"devices": [{"allow": True, "access": "rwm"},
                             {"allow": False, "type": "c", "major": 1, "minor": 11,
                              "access": "rwm"}]})
        listing = devices_list(mgr)
        assert listing is None or listing == ["a *:* rwm", ""]
        assert "kmsg denied" in run_in(mgr, procs)
    finally:
        procs.stop_all()
        mgr.destroy()


@requires_root
@requires_v1
def test_devices_list_keeps_the_listed_order(cg_parent):
    # The spec: entries are applied in the listed order; devices.list shows the
    # order of the writes (runtime-tools linux_cgroups_devices checks it).
    mgr = for_container("c", cg_parent + "/c")
    try:
        mgr.create()
        mgr.set({"devices": [{"allow": False, "access": "rwm"},
                             {"allow": True, "type": "c", "major": 10, "minor": 229,
                              "access": "rwm"},
                             {"allow": True, "type": "b", "major": 8, "minor": 20,
                              "access": "rw"}]})
        listing = read(mgr.path("devices") + "/devices.list").split("\n")
        assert listing[:4] == ["c 10:229 rwm", "b 8:20 rw", "c *:* m", "b *:* m"]
    finally:
        mgr.destroy()
