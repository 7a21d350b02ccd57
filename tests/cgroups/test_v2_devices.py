"""Device rules on cgroup v2: the eBPF program, checked from inside real containers.

The program itself is checked in two ways: a small interpreter runs the
generated instructions against the rule semantics (pure), and the kernel
enforces it on real containers.  BPF device programs work on any cgroup2
directory, so on this hybrid host they are tested

* on a pure-v2 layout and on a hybrid layout without v1 devices, each made in
  a private mount namespace (v2_layouts.py): the runtime has to choose the
  eBPF path itself, and the v1 devices cgroup does not restrict the container;
* by attaching programs from here to the cgroup2 directory of a container
  started normally (update: the program is replaced, not stacked).

A denied open must fail with EPERM (busybox sh: "Operation not permitted").
"""

from __future__ import annotations

import json
import os
import shutil

import pytest
from cg_testlib import Pyrunc, RootSubtreeGuard, busybox_bundle, leftovers, requires_root
from v2_layouts import UNIFIED, LayoutRuntime, drop_runc_parents, host_cgroup2_dir, host_supports

from runtime.cgroups import CgroupError
from runtime.cgroups.devices import WILDCARD, Rule, rules_from_oci
from runtime.cgroups.v2 import devicefilter, devices

# -- the program, run by a small interpreter (pure) ---------------------------------


def run_program(insns: list[tuple], dev_type: str, major: int, minor: int,
                access: str) -> int:
    """Execute the instruction subset devicefilter emits; returns r0."""
    from runtime.native import lib

    type_bits = lib.BPF_DEVCG_DEV_CHAR if dev_type == "c" else lib.BPF_DEVCG_DEV_BLOCK
    acc = sum({"r": lib.BPF_DEVCG_ACC_READ, "w": lib.BPF_DEVCG_ACC_WRITE,
               "m": lib.BPF_DEVCG_ACC_MKNOD}[p] for p in access)
    ctx = [(acc << 16) | type_bits, major, minor]
    reg = [0] * 11
    pc = 0
    alu, jmp = lib.BPF_ALU, lib.BPF_JMP
    for _ in range(10_000):
        code, dst, src, off, imm = insns[pc]
        pc += 1
        if code == lib.BPF_LDX | lib.BPF_MEM | lib.BPF_W:
            assert src == 1 and off % 4 == 0
            reg[dst] = ctx[off // 4]
        elif code == alu | lib.BPF_AND | lib.BPF_K:
            reg[dst] = (reg[dst] & imm) & 0xFFFFFFFF
        elif code == alu | lib.BPF_RSH | lib.BPF_K:
            reg[dst] = (reg[dst] & 0xFFFFFFFF) >> imm
        elif code == alu | lib.BPF_MOV | lib.BPF_K:
            reg[dst] = imm & 0xFFFFFFFF
        elif code == alu | lib.BPF_MOV | lib.BPF_X:
            reg[dst] = reg[src] & 0xFFFFFFFF
        elif code == jmp | lib.BPF_JNE | lib.BPF_K:
            if reg[dst] != imm & 0xFFFFFFFFFFFFFFFF:
                pc += off
        elif code == jmp | lib.BPF_JNE | lib.BPF_X:
            if reg[dst] != reg[src]:
                pc += off
        elif code == jmp | lib.BPF_EXIT:
            return reg[0]
        else:
            raise AssertionError(f"unexpected opcode {code:#x}")
    raise AssertionError("program did not end")


def last_match(rules: list[Rule], dev_type: str, major: int, minor: int, bit: str) -> int:
    """The rule semantics for one access bit: the last rule that matches decides."""
    for r in reversed(rules):
        if r.type not in ("a", dev_type) or bit not in r.access:
            continue
        if r.type != "a" and (r.major not in (WILDCARD, major)
                              or r.minor not in (WILDCARD, minor)):
            continue
        return 1 if r.allow else 0
    return 0


def R(text: str, allow: bool = True) -> Rule:   # noqa: N802
    type_, numbers, access = text.split()
    major, minor = numbers.split(":")
    return Rule(type_, WILDCARD if major == "*" else int(major),
                WILDCARD if minor == "*" else int(minor), access, allow)


RULE_LISTS = [
    [],                                                       # nothing: deny all
    [R("a *:* rwm")],                                         # allow all
    [R("a *:* rwm", False), R("c 1:3 rw"), R("b 8:* r")],
    [R("a *:* rwm"), R("c 1:11 w", False), R("b *:* m", False)],
    [R("a *:* rwm", False), R("c 1:3 rwm"), R("c 1:3 w", False)],
    [R("c 1:3 r"), R("a *:* rwm"), R("a *:* rwm", False), R("c *:5 m")],
    rules_from_oci([{"allow": False, "access": "rwm"},
                    {"allow": True, "type": "c", "major": 10, "access": "rw"}]),
]
DEVICES = [("c", 1, 3), ("c", 1, 5), ("c", 1, 11), ("b", 8, 0), ("b", 8, 1), ("c", 10, 200),
           ("c", 136, 4), ("b", 7, 5), ("c", 7, 5)]


@pytest.mark.parametrize("rules", RULE_LISTS, ids=range(len(RULE_LISTS)))
def test_program_decides_like_the_last_matching_rule(rules):
    prog = devicefilter.build(rules)
    for dev_type, major, minor in DEVICES:
        for bit in "rwm":
            assert run_program(prog, dev_type, major, minor, bit) == \
                last_match(rules, dev_type, major, minor, bit), (dev_type, major, minor, bit)


def test_a_request_for_several_bits_needs_one_rule_granting_all():
    prog = devicefilter.build([R("c 1:3 r"), R("c *:* w")])
    assert run_program(prog, "c", 1, 3, "r") == 1 and run_program(prog, "c", 1, 3, "w") == 1
    assert run_program(prog, "c", 1, 3, "rw") == 0    # as the v1 devices cgroup decides
    assert run_program(devicefilter.build([R("c 1:3 rw")]), "c", 1, 3, "rw") == 1


def test_rules_v1_cannot_express_are_refused_on_v2_too():
    with pytest.raises(CgroupError, match="cannot punch a hole"):
        devicefilter.build([R("a *:* rwm", False), R("c *:* rwm"), R("c 1:3 w", False)])
    with pytest.raises(CgroupError, match="out of range"):
        devicefilter.build([R(f"c {1 << 31}:1 r")])


# -- real containers ------------------------------------------------------------------

needs_bundle = pytest.mark.skipif(not shutil.which("runc") or not os.path.exists("/bin/busybox"),
                                  reason="needs busybox-static and runc (for `runc spec`)")

# Declaring /dev/full drops runc's default rule for it, so the test's rules decide
# (its opens need no capability, unlike /dev/full's reads).
FULL = {"path": "/dev/full", "type": "c", "major": 1, "minor": 7, "fileMode": 0o666,
        "uid": 0, "gid": 0}


def rules(full_access: str) -> dict:
    devs = [{"allow": False, "access": "rwm"}]
    if full_access:
        devs.append({"allow": True, "type": "c", "major": 1, "minor": 7,
                     "access": full_access})
    return {"devices": devs}


def full_bundle(path: str, cgroups_path: str, full_access: str) -> str:
    busybox_bundle(path, cgroups_path, ["sleep", "1000"], rules(full_access))
    with open(os.path.join(path, "config.json")) as f:
        config = json.load(f)
    config["linux"]["devices"] = [FULL]
    with open(os.path.join(path, "config.json"), "w") as f:
        json.dump(config, f)
    return path


def can_open(runtime, cid: str, redirect: str, device: str) -> bool:
    """Open ``device`` inside the container (``<`` read, ``>`` write, no data moved)."""
    p = runtime("exec", cid, "sh", "-c", f": {redirect} {device} && echo opened")
    if p.stdout.strip() == "opened":
        return True
    assert "Operation not permitted" in p.stderr, p.stderr
    return False


def init_pid(runtime, cid: str) -> int:
    p = runtime("state", cid)
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)["pid"]


@pytest.fixture(params=["pure-v2", "hybrid-no-devices"])
def layout_runtime(request, tmp_path, cg_parent):
    layout = request.param
    why = host_supports(layout)
    if why:
        pytest.skip(why)
    if layout == "hybrid-no-devices" and os.environ.get("PYRUNC_TEST_RUNTIME"):
        pytest.skip("runc 1.1 needs a v1 devices hierarchy on a hybrid host (checked by hand: "
                    "\"runc run failed: mountpoint for devices not found\")")
    # The runtimes offer every controller down the path, the cgroup2 root included.
    guard = RootSubtreeGuard(UNIFIED)
    rt = LayoutRuntime(str(tmp_path / "root"), layout)
    try:
        yield rt
    finally:
        rt.cleanup()
        drop_runc_parents(cg_parent)
        guard.restore()
    assert leftovers(cg_parent) == []


@requires_root
@needs_bundle
def test_device_rules_are_enforced_by_the_ebpf_program(layout_runtime, tmp_path, cg_parent):
    rt = layout_runtime
    cid = "dev-" + os.urandom(3).hex()
    rt.run_detached(cid, full_bundle(str(tmp_path / cid), f"{cg_parent}/{cid}", "r"))
    cg = host_cgroup2_dir(init_pid(rt, cid))
    assert cg.endswith(f"{cg_parent}/{cid}")
    assert len(devices.attached(cg)) == 1
    assert can_open(rt, cid, "<", "/dev/full")            # allowed: c 1:7 r
    assert not can_open(rt, cid, ">", "/dev/full")        # denied: no w
    assert can_open(rt, cid, ">", "/dev/null")            # runc's default allow-list
    assert can_open(rt, cid, "<", "/dev/zero")


@requires_root
@needs_bundle
def test_replacing_the_program_changes_what_a_running_container_may_open(tmp_path,
                                                                         cg_parent):
    """Attach from here to a normally started container's cgroup2 directory."""
    if host_supports("pure-v2"):
        pytest.skip(host_supports("pure-v2"))
    rt = Pyrunc(str(tmp_path / "root"))
    cid = "upd-" + os.urandom(3).hex()
    try:
        # The container's own rules allow /dev/full rw (v1 devices agrees).
        rt.run_detached(cid, full_bundle(str(tmp_path / cid), f"{cg_parent}/{cid}", "rw"))
        cg = host_cgroup2_dir(init_pid(rt, cid))
        assert cg.endswith(f"{cg_parent}/{cid}"), cg
        before = devices.attached(cg)
        assert can_open(rt, cid, ">", "/dev/full")

        devices.set_rules(cg, rules_from_oci(rules("r")["devices"], [FULL]))
        first = devices.attached(cg)
        assert len(first) == len(before) + 1
        assert not can_open(rt, cid, ">", "/dev/full")
        assert can_open(rt, cid, "<", "/dev/full")

        devices.set_rules(cg, rules_from_oci(rules("")["devices"], [FULL]))
        second = devices.attached(cg)
        assert len(second) == len(first) and set(second) != set(first)   # replaced
        assert not can_open(rt, cid, "<", "/dev/full")

        devices.set_rules(cg, rules_from_oci(rules("rw")["devices"], [FULL]))
        assert can_open(rt, cid, ">", "/dev/full")
        assert len(devices.attached(cg)) == len(first)
    finally:
        rt.cleanup()
        drop_runc_parents(cg_parent)
    assert leftovers(cg_parent) == []


@requires_root
def test_a_bpf_error_is_one_line_with_the_reason(tmp_path):
    with pytest.raises(devices.BpfError, match="cannot open cgroup .*: no such file") as e:
        devices.set_rules(str(tmp_path / "missing"), [])
    assert e.value.errno == 2 and "\n" not in str(e.value)
    with pytest.raises(devices.BpfError, match="BPF_PROG_QUERY.*") as e:
        devices.attached(str(tmp_path))    # not a cgroup directory

