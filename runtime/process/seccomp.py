"""linux.seccomp -> a BPF program, compiled here in the runtime with libseccomp.

The container process only loads the bytes (OP_SECCOMP), so libseccomp never
runs between clone() and execve().  The translation follows runc's
(libcontainer/seccomp): SCMP_ACT_KILL means "kill the thread", SCMP_ACT_ERRNO
and SCMP_ACT_TRACE return EPERM unless errnoRet says otherwise, a rule whose
action is the default action is dropped, a syscall name libseccomp does not
know is skipped (logged at debug level, as runc does), and conditions on the
same argument become separate rules.  Syscalls newer than the profile answer
ENOSYS (seccomp_enosys.py).  Unlike runc, errnoRet on an action that
has no errno is refused, as the spec requires.

Imported only when the config has linux.seccomp.
"""

from __future__ import annotations

import errno
import os

from runtime.errors import PyruncError
from runtime.log import log
from runtime.native import ffi, lib

_MAX_ARGS = 6  # a Linux syscall has at most six arguments

_OPERATORS = {
    "SCMP_CMP_NE": lib.SCMP_CMP_NE,
    "SCMP_CMP_LT": lib.SCMP_CMP_LT,
    "SCMP_CMP_LE": lib.SCMP_CMP_LE,
    "SCMP_CMP_EQ": lib.SCMP_CMP_EQ,
    "SCMP_CMP_GE": lib.SCMP_CMP_GE,
    "SCMP_CMP_GT": lib.SCMP_CMP_GT,
    "SCMP_CMP_MASKED_EQ": lib.SCMP_CMP_MASKED_EQ,
}
_FIXED_ACTIONS = {
    "SCMP_ACT_KILL": lib.SCMP_ACT_KILL_THREAD,
    "SCMP_ACT_KILL_THREAD": lib.SCMP_ACT_KILL_THREAD,
    "SCMP_ACT_KILL_PROCESS": lib.SCMP_ACT_KILL_PROCESS,
    "SCMP_ACT_TRAP": lib.SCMP_ACT_TRAP,
    "SCMP_ACT_ALLOW": lib.SCMP_ACT_ALLOW,
    "SCMP_ACT_LOG": lib.SCMP_ACT_LOG,
    "SCMP_ACT_NOTIFY": lib.SCMP_ACT_NOTIFY,
}
_ERRNO_ACTIONS = {
    "SCMP_ACT_ERRNO": lib.pyrunc_scmp_act_errno,
    "SCMP_ACT_TRACE": lib.pyrunc_scmp_act_trace,
}
# Filter flags for seccomp(2); TSYNC is accepted and ignored, as runc does (the
# container process has a single thread).
_FLAGS = {
    "SECCOMP_FILTER_FLAG_TSYNC": 0,
    "SECCOMP_FILTER_FLAG_LOG": lib.SECCOMP_FILTER_FLAG_LOG,
    "SECCOMP_FILTER_FLAG_SPEC_ALLOW": lib.SECCOMP_FILTER_FLAG_SPEC_ALLOW,
    "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV": lib.SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV,
}
# Syscalls the container process needs to hand the notify fd to the runtime:
# a notify rule on them would wait for an agent that can't have the fd yet.
_NOTIFY_FORBIDDEN = ("write", "sendmsg")


class Filter:
    """A compiled profile: the BPF program and how to load it."""

    def __init__(self, bpf: bytes, flags: int, notify: bool, listener_path: str,
                 listener_metadata: str) -> None:
        self.bpf = bpf
        self.flags = flags
        self.notify = notify
        self.listener_path = listener_path
        self.listener_metadata = listener_metadata

    @property
    def instructions(self) -> int:
        return len(self.bpf) // 8  # sizeof(struct sock_filter)


def action(name: str, errno_ret: int | None) -> int:
    if name in _ERRNO_ACTIONS:
        return _ERRNO_ACTIONS[name](errno.EPERM if errno_ret is None else errno_ret)
    if name not in _FIXED_ACTIONS:
        raise PyruncError(f"string {name} is not a valid action for seccomp")
    if errno_ret is not None:
        raise PyruncError(f"seccomp action {name} does not take an errnoRet")
    return _FIXED_ACTIONS[name]


def arch_token(name: str) -> int:
    """SCMP_ARCH_X86_64 -> libseccomp's token, through libseccomp's own name table."""
    token = 0
    if name.startswith("SCMP_ARCH_"):
        token = lib.seccomp_arch_resolve_name(name[len("SCMP_ARCH_"):].lower().encode())
    if not token:
        raise PyruncError(f"string {name} is not a valid arch for seccomp")
    return token


def filter_flags(profile: dict) -> int:
    names = profile.get("flags")
    if names is None:
        # No flags at all (not even an empty list): runc's default.
        names = ["SECCOMP_FILTER_FLAG_SPEC_ALLOW"]
    flags = 0
    for name in names:
        if name not in _FLAGS:
            raise PyruncError(f"seccomp flag {name} is not known to pyrunc")
        flags |= _FLAGS[name]
    return flags


def _check_flags(flags: int, notify: bool) -> None:
    # The kernel refuses this one without a listener; say so at create time.
    if flags & lib.SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV and not notify:
        raise PyruncError("seccomp flag SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV needs a "
                          "SCMP_ACT_NOTIFY rule")


def _conditions(name: str, args: list[dict]) -> list[list[tuple[int, int, int, int]]]:
    """Conditions -> rule groups: one rule with all of them, or one rule per
    condition when two compare the same argument (libseccomp can't AND those)."""
    conds = []
    for a in args:
        index = int(a.get("index", 0))
        if not 0 <= index < _MAX_ARGS:
            raise PyruncError(f"seccomp: syscall {name}: argument index {index} is out of "
                              f"range 0-{_MAX_ARGS - 1}")
        op = a.get("op", "")
        if op not in _OPERATORS:
            raise PyruncError(f"string {op} is not a valid operator for seccomp")
        conds.append((index, _OPERATORS[op], int(a.get("value", 0)), int(a.get("valueTwo", 0))))
    indexes = [c[0] for c in conds]
    if len(set(indexes)) != len(indexes):
        return [[c] for c in conds]
    return [conds]


def _add_rule(ctx, act: int, nr: int, name: str, conds: list[tuple[int, int, int, int]]) -> None:
    arr = ffi.new("struct scmp_arg_cmp[]", max(len(conds), 1))
    for i, (index, op, a, b) in enumerate(conds):
        arr[i].arg = index
        arr[i].op = op
        arr[i].datum_a = a
        arr[i].datum_b = b
    r = lib.seccomp_rule_add_array(ctx, act, nr, len(conds), arr if conds else ffi.NULL)
    if r < 0:
        raise PyruncError(f"error adding seccomp filter rule for syscall {name}: "
                          f"{os.strerror(-r)}")


def _check_notify(profile: dict, default_name: str) -> bool:
    notify = any(s.get("action") == "SCMP_ACT_NOTIFY" for s in profile.get("syscalls") or [])
    if default_name == "SCMP_ACT_NOTIFY":
        raise PyruncError("SCMP_ACT_NOTIFY cannot be used as default action")
    if profile.get("listenerMetadata") and not profile.get("listenerPath"):
        raise PyruncError("seccomp listenerMetadata is set but listenerPath is not")
    if not notify:
        return False
    if lib.seccomp_api_get() < 6:
        raise PyruncError("seccomp notify unsupported: API level: got "
                          f"{lib.seccomp_api_get()}, want at least 6. Please try with "
                          "libseccomp >= 2.5.0 and Linux >= 5.7")
    for s in profile.get("syscalls") or []:
        if s.get("action") != "SCMP_ACT_NOTIFY":
            continue
        for name in s.get("names") or []:
            if name in _NOTIFY_FORBIDDEN:
                raise PyruncError(f"SCMP_ACT_NOTIFY cannot be used for the {name} syscall")
    if not profile.get("listenerPath"):
        raise PyruncError("seccomp listenerPath is not set")
    return True


def compile_profile(profile: dict) -> Filter | None:
    """Compile linux.seccomp; None when it asks for nothing (no default action, no rules)."""
    syscalls = profile.get("syscalls") or []
    default_name = profile.get("defaultAction") or ""
    if not default_name and not syscalls:
        return None
    flags = filter_flags(profile)
    default = action(default_name, profile.get("defaultErrnoRet"))
    notify = _check_notify(profile, default_name)
    _check_flags(flags, notify)
    tokens = [arch_token(a) for a in profile.get("architectures") or []]
    rules = []
    for s in syscalls:
        act = action(s.get("action", ""), s.get("errnoRet"))
        for name in s.get("names") or []:
            if not name:
                raise PyruncError("empty string is not a valid syscall")
            rules.append((name, act, _conditions(name, s.get("args") or [])))

    ctx = lib.seccomp_init(default)
    if ctx == ffi.NULL:
        raise PyruncError("error creating seccomp filter")
    try:
        for token in tokens:
            r = lib.seccomp_arch_add(ctx, token)
            if r < 0 and r != -errno.EEXIST:
                raise PyruncError(f"error adding architecture to seccomp filter: "
                                  f"{os.strerror(-r)}")
        if len(rules) > 32:
            # libseccomp's binary tree: far fewer instructions per syscall for long lists.
            lib.seccomp_attr_set(ctx, lib.SCMP_FLTATR_CTL_OPTIMIZE, 2)
        for name, act, groups in rules:
            if act == default:
                continue  # redundant, and libseccomp refuses it
            nr = lib.seccomp_syscall_resolve_name(name.encode())
            if nr == lib.__NR_SCMP_ERROR:
                log.debug(f"unknown seccomp syscall {name!r} ignored")
                continue
            for conds in groups:
                _add_rule(ctx, act, nr, name, conds)
        bpf = _export(ctx)
    finally:
        lib.seccomp_release(ctx)
    from runtime.process import seccomp_enosys

    bpf = seccomp_enosys.stub(profile, tokens) + bpf
    if notify:
        flags |= lib.SECCOMP_FILTER_FLAG_NEW_LISTENER
    return Filter(bpf, flags, notify, profile.get("listenerPath") or "",
                  profile.get("listenerMetadata") or "")


def _export(ctx) -> bytes:
    fd = os.memfd_create("pyrunc-seccomp", os.MFD_CLOEXEC)
    try:
        r = lib.seccomp_export_bpf(ctx, fd)
        if r < 0:
            raise PyruncError(f"error exporting seccomp filter: {os.strerror(-r)}")
        size = os.lseek(fd, 0, os.SEEK_END)
        return os.pread(fd, size, 0)
    finally:
        os.close(fd)


def send_notify_fd(f: Filter, notify_fd: int, state: dict, pid: int) -> None:
    """Give the seccomp agent at listenerPath the notify fd and the container
    process state (one connection, one message, fd by SCM_RIGHTS)."""
    import json
    import socket

    from runtime import SPEC_VERSION

    doc = {"ociVersion": SPEC_VERSION, "fds": ["seccompFd"], "pid": pid, "state": state}
    if f.listener_metadata:
        doc["metadata"] = f.listener_metadata
    payload = json.dumps(doc).encode()
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM | socket.SOCK_CLOEXEC) as s:
            s.connect(f.listener_path)
            sent = socket.send_fds(s, [payload], [notify_fd])
            if sent < len(payload):  # a stream socket may take it in parts
                s.sendall(payload[sent:])
    except OSError as e:
        raise PyruncError("failed to send the seccomp notify fd to the agent at "
                          f"{f.listener_path}: {e.strerror or e}") from None
