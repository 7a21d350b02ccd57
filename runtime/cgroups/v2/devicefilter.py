"""Device rules as an eBPF program for cgroup v2 (the design of runc's devicefilter).

cgroup2 has no devices controller; the kernel asks a BPF_PROG_TYPE_CGROUP_DEVICE
program instead, with a context of (access_type, major, minor), where
access_type is ``(access bits << 16) | device type``.  The program returns 1 to
allow the access and 0 to deny it.

The OCI rules are first reduced with the same emulator as v1 (so both versions
agree on what a list means: the last matching rule wins, ``a`` resets the
default, a hole cannot be punched in a wildcard), giving a default verdict and
exceptions that all carry the opposite verdict.  The program then tests each
exception in turn and falls through to the default:

    r2 = type, r3 = requested access, r4 = major, r5 = minor
    for each exception:   if it matches: return its verdict
    return the default

An exception matches when the type is equal, the requested access bits are all
in the rule's access, and the major and minor are equal (or the rule's is "*").
"""

from __future__ import annotations

from runtime.cgroups import CgroupError
from runtime.cgroups.devices import WILDCARD, Emulator, Rule

# One instruction: (opcode, dst register, src register, offset, immediate).
Insn = tuple[int, int, int, int, int]

# The kernel compares a 64-bit register holding a u32 with a sign-extended
# 32-bit immediate, so numbers must stay below 2^31 (Linux majors have 12 bits,
# minors 20).
_MAX_NUMBER = (1 << 31) - 1


def _lib():
    from runtime.native import lib

    return lib


def _access_bits(access: str) -> int:
    lib = _lib()
    bits = {"r": lib.BPF_DEVCG_ACC_READ, "w": lib.BPF_DEVCG_ACC_WRITE,
            "m": lib.BPF_DEVCG_ACC_MKNOD}
    out = 0
    for p in access:
        out |= bits[p]
    return out


def _prologue() -> list[Insn]:
    lib = _lib()
    ldx_w = lib.BPF_LDX | lib.BPF_MEM | lib.BPF_W
    alu32 = lib.BPF_ALU | lib.BPF_K
    return [
        (ldx_w, 2, 1, 0, 0),                      # r2 = ctx->access_type
        (alu32 | lib.BPF_AND, 2, 0, 0, 0xFFFF),   # w2 &= 0xffff: the device type
        (ldx_w, 3, 1, 0, 0),                      # r3 = ctx->access_type
        (alu32 | lib.BPF_RSH, 3, 0, 0, 16),       # w3 >>= 16: the requested access
        (ldx_w, 4, 1, 4, 0),                      # r4 = ctx->major
        (ldx_w, 5, 1, 8, 0),                      # r5 = ctx->minor
    ]


def _verdict(allow: bool) -> list[Insn]:
    lib = _lib()
    return [(lib.BPF_ALU | lib.BPF_MOV | lib.BPF_K, 0, 0, 0, 1 if allow else 0),
            (lib.BPF_JMP | lib.BPF_EXIT, 0, 0, 0, 0)]


def _check_number(rule: Rule, what: str, value: int) -> None:
    if value != WILDCARD and not 0 <= value <= _MAX_NUMBER:
        raise CgroupError(f"invalid device rule {rule.cgroup_string()}: {what} {value} is "
                          "out of range")


def _block(rule: Rule) -> list[Insn]:
    """The test of one exception: a failed comparison jumps past the block."""
    lib = _lib()
    _check_number(rule, "major", rule.major)
    _check_number(rule, "minor", rule.minor)
    jne_k = lib.BPF_JMP | lib.BPF_JNE | lib.BPF_K
    dev_type = lib.BPF_DEVCG_DEV_CHAR if rule.type == "c" else lib.BPF_DEVCG_DEV_BLOCK
    # (instruction, whether it is a "no match: skip the block" jump)
    body: list[tuple[Insn, bool]] = [((jne_k, 2, 0, 0, dev_type), True)]
    access = _access_bits(rule.access)
    if access != _access_bits("rwm"):
        body += [
            ((lib.BPF_ALU | lib.BPF_MOV | lib.BPF_X, 1, 3, 0, 0), False),       # w1 = w3
            ((lib.BPF_ALU | lib.BPF_AND | lib.BPF_K, 1, 0, 0, access), False),  # w1 &= access
            ((lib.BPF_JMP | lib.BPF_JNE | lib.BPF_X, 1, 3, 0, 0), True),        # asked more?
        ]
    if rule.major != WILDCARD:
        body.append(((jne_k, 4, 0, 0, rule.major), True))
    if rule.minor != WILDCARD:
        body.append(((jne_k, 5, 0, 0, rule.minor), True))
    body += [(insn, False) for insn in _verdict(rule.allow)]
    end = len(body)
    return [(code, dst, src, end - i - 1 if skip else off, imm)
            for i, ((code, dst, src, off, imm), skip) in enumerate(body)]


def exceptions(emu: Emulator) -> list[Rule]:
    """The emulator's state as rules, each with the verdict opposite to the default."""
    return [Rule(t, major, minor, access, not emu.default_allow)
            for (t, major, minor), access in sorted(emu.exceptions.items(),
                                                    key=lambda kv: (kv[0][1], kv[0][2],
                                                                    kv[0][0]))]


def build(rules: list[Rule]) -> list[Insn]:
    """The device program for ``rules`` (OCI order, runc's defaults included)."""
    emu = Emulator.from_rules(rules)
    prog = _prologue()
    # All exceptions share one verdict, so their order does not change the
    # result; like runc, the later ones are tested first.
    for rule in reversed(exceptions(emu)):
        prog += _block(rule)
    prog += _verdict(emu.default_allow)
    return prog
