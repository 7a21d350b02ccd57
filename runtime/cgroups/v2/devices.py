"""cgroup v2 device rules: load the device program and attach it to the container's cgroup.

Like runc, a cgroup gets exactly one program of ours: a new rule set is loaded,
attached next to the old program(s) with BPF_F_ALLOW_MULTI, and then the old
ones are detached.  While both are attached a device must pass both, so the
switch never allows more than either rule set.
"""

from __future__ import annotations

import errno
import os

from runtime.cgroups import CgroupError
from runtime.cgroups.devices import Rule
from runtime.cgroups.v2 import devicefilter

_LOG_SIZE = 1 << 16
_MAX_QUERY = 64


class BpfError(CgroupError):
    """A bpf(2) step failed; ``errno`` says why."""

    def __init__(self, msg: str, err: int) -> None:
        super().__init__(msg)
        self.errno = err


def _strerror(err: int) -> str:
    text = os.strerror(err)
    return text[:1].lower() + text[1:]


def _open_dir(path: str) -> int:
    try:
        return os.open(path, os.O_DIRECTORY | os.O_RDONLY | os.O_CLOEXEC)
    except OSError as e:
        raise BpfError(f"cannot open cgroup {path}: {_strerror(e.errno)}", e.errno) from None


def load(insns: list[devicefilter.Insn]) -> int:
    """BPF_PROG_LOAD the program; returns its fd (the caller closes it)."""
    from runtime.native import ffi, lib

    buf = ffi.new("struct bpf_insn[]", len(insns))
    for i, (code, dst, src, off, imm) in enumerate(insns):
        buf[i].code, buf[i].dst_reg, buf[i].src_reg = code, dst, src
        buf[i].off, buf[i].imm = off, imm
    fd = lib.pyrunc_bpf_load_device_prog(buf, len(insns), ffi.NULL, 0)
    if fd >= 0:
        return fd
    err = -fd
    detail = ""
    if err in (errno.EINVAL, errno.EACCES):   # the verifier refused it: ask for its log
        log = ffi.new("char[]", _LOG_SIZE)
        again = lib.pyrunc_bpf_load_device_prog(buf, len(insns), log, _LOG_SIZE)
        if again >= 0:
            os.close(again)
        lines = ffi.string(log).decode(errors="replace").strip().splitlines()
        if lines:
            detail = f" (verifier: {lines[-1]})"
    raise BpfError(f"loading device filter program: {_strerror(err)}{detail}", err)


def attached(path: str) -> list[int]:
    """Ids of the device programs attached to the cgroup at ``path``."""
    fd = _open_dir(path)
    try:
        return _query(fd, path)
    finally:
        os.close(fd)


def _query(cgroup_fd: int, path: str) -> list[int]:
    from runtime.native import ffi, lib

    ids = ffi.new("uint32_t[]", _MAX_QUERY)
    count = ffi.new("unsigned int *")
    r = lib.pyrunc_bpf_query_device_progs(cgroup_fd, ids, _MAX_QUERY, count)
    if r < 0:
        raise BpfError(f"failed to call BPF_PROG_QUERY (BPF_CGROUP_DEVICE) on {path}: "
                       f"{_strerror(-r)}", -r)
    if count[0] > _MAX_QUERY:
        raise BpfError(f"{count[0]} device programs attached to {path}: too many to "
                       "replace", errno.E2BIG)
    return [ids[i] for i in range(count[0])]


def set_rules(path: str, rules: list[Rule]) -> None:
    """Make ``rules`` the device policy of the cgroup v2 directory ``path``."""
    from runtime.native import lib

    insns = devicefilter.build(rules)
    cgroup_fd = _open_dir(path)
    old_fds: list[int] = []
    prog_fd = -1
    try:
        for prog_id in _query(cgroup_fd, path):
            fd = lib.pyrunc_bpf_prog_fd_by_id(prog_id)
            if fd < 0:
                if -fd == errno.ENOENT:   # detached meanwhile
                    continue
                raise BpfError(f"failed to call BPF_PROG_GET_FD_BY_ID ({prog_id}): "
                               f"{_strerror(-fd)}", -fd)
            old_fds.append(fd)
        prog_fd = load(insns)
        r = lib.pyrunc_bpf_attach_device_prog(cgroup_fd, prog_fd, lib.BPF_F_ALLOW_MULTI)
        if r < 0:
            raise BpfError(f"failed to call BPF_PROG_ATTACH (BPF_CGROUP_DEVICE, "
                           f"BPF_F_ALLOW_MULTI) on {path}: {_strerror(-r)}", -r)
        for fd in old_fds:
            r = lib.pyrunc_bpf_detach_device_prog(cgroup_fd, fd)
            if r < 0 and -r != errno.ENOENT:
                raise BpfError(f"failed to call BPF_PROG_DETACH (BPF_CGROUP_DEVICE) on "
                               f"{path}: {_strerror(-r)}", -r)
    finally:
        for fd in old_fds + ([prog_fd] if prog_fd >= 0 else []) + [cgroup_fd]:
            os.close(fd)
