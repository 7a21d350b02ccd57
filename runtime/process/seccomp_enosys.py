"""The ENOSYS stub in front of a compiled seccomp filter (the idea of runc's
libcontainer/seccomp/patchbpf).

A profile written before a syscall existed does not name it, so the filter's
default action (EPERM, say) would answer it, and glibc or musl, which fall back
to the older call only on ENOSYS, would fail.  For each architecture the profile
lists, the stub answers ENOSYS to every syscall number greater than the largest
one the profile names (with any action), and hands everything else to the
filter: an explicit rule always wins.  As runc: no stub when the default action
lets calls through (allow, log, trace) or already is ENOSYS, nor for a profile
without architectures.

x86_64 and x32 share one AUDIT_ARCH: the x32 bit of the syscall number tells
them apart, and a mode the profile does not list goes to the filter untouched.
"""

from __future__ import annotations

import errno
import struct

from runtime.native import lib

_SECCOMP_DATA_NR = 0
_SECCOMP_DATA_ARCH = 4
_LD_W_ABS = 0x20        # BPF_LD | BPF_W | BPF_ABS
_JA = 0x05              # BPF_JMP | BPF_JA
_JGT = 0x25             # BPF_JMP | BPF_JGT | BPF_K
_JEQ = 0x15             # BPF_JMP | BPF_JEQ | BPF_K
_JSET = 0x45            # BPF_JMP | BPF_JSET | BPF_K
_RET = 0x06             # BPF_RET | BPF_K
_RET_ENOSYS = 0x00050000 | errno.ENOSYS  # SECCOMP_RET_ERRNO | ENOSYS
_X32_BIT = 0x40000000
_PERMISSIVE = ("SCMP_ACT_ALLOW", "SCMP_ACT_LOG", "SCMP_ACT_TRACE")

# An instruction: (code, jt, jf, k); k of a jump to the filter is the label FILTER.
FILTER = "filter"


def wanted(profile: dict) -> bool:
    default = profile.get("defaultAction") or ""
    if default in _PERMISSIVE:
        return False
    if default == "SCMP_ACT_ERRNO" and profile.get("defaultErrnoRet") == errno.ENOSYS:
        return False
    return True


def largest_syscalls(profile: dict, tokens: list[int]) -> dict[int, dict[int, int]]:
    """{native AUDIT_ARCH: {libseccomp arch token: largest syscall number named}}."""
    names = {n for s in profile.get("syscalls") or [] for n in s.get("names") or [] if n}
    x32 = lib.seccomp_arch_resolve_name(b"x32")
    x86_64 = lib.seccomp_arch_resolve_name(b"x86_64")
    out: dict[int, dict[int, int]] = {}
    for token in tokens:
        native = x86_64 if token == x32 else token  # libseccomp's tokens are AUDIT_ARCH values
        largest = 0
        for name in names:
            nr = lib.seccomp_syscall_resolve_name_arch(token, name.encode())
            if nr > largest:  # negative: unknown, or a multiplexed pseudo-syscall
                largest = nr
        if largest:
            out.setdefault(native, {})[token] = largest
    return out


def _section(native: int, largest: dict[int, int]) -> list[tuple]:
    """From the syscall number loaded: ENOSYS above the largest, else the filter."""
    x32 = lib.seccomp_arch_resolve_name(b"x32")
    x86_64 = lib.seccomp_arch_resolve_name(b"x86_64")
    code = [(_LD_W_ABS, 0, 0, _SECCOMP_DATA_NR)]
    if native != x86_64:
        (top,) = largest.values()
        return code + [(_JGT, 0, 1, top), (_RET, 0, 0, _RET_ENOSYS), (_JA, 0, 0, FILTER)]
    if len(largest) == 2:
        return code + [
            (_JSET, 1, 0, _X32_BIT),            # x32 call: its own limit
            (_JGT, 1, 2, largest[x86_64]),
            (_JGT, 0, 1, largest[x32]),
            (_RET, 0, 0, _RET_ENOSYS),
            (_JA, 0, 0, FILTER),
        ]
    (token, top), = largest.items()
    # The mode the profile does not list skips to the filter (its bad-arch action).
    mode = (_JSET, 2, 0, _X32_BIT) if token == x86_64 else (_JSET, 0, 2, _X32_BIT)
    return code + [mode, (_JGT, 0, 1, top), (_RET, 0, 0, _RET_ENOSYS), (_JA, 0, 0, FILTER)]


def stub(profile: dict, tokens: list[int]) -> bytes:
    """The instructions to put in front of the filter (b"" when none are wanted)."""
    if not wanted(profile):
        return b""
    arches = largest_syscalls(profile, tokens)
    if not arches:
        return b""
    sections = [(native, _section(native, largest)) for native, largest in arches.items()]
    # ld arch; per arch: jeq arch (else skip the ja); ja <its section>; then ja filter.
    head_len = 1 + 2 * len(sections) + 1
    code: list[tuple] = [(_LD_W_ABS, 0, 0, _SECCOMP_DATA_ARCH)]
    at = head_len
    for native, body in sections:
        code.append((_JEQ, 0, 1, native))
        code.append((_JA, 0, 0, at - (len(code) + 1)))
        at += len(body)
    code.append((_JA, 0, 0, FILTER))
    for _, body in sections:
        code.extend(body)
    end = len(code)
    out = bytearray()
    for i, (op, jt, jf, k) in enumerate(code):
        if k == FILTER:
            k = end - (i + 1)
        out += struct.pack("=HBBI", op, jt, jf, k)
    return bytes(out)
