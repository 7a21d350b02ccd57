"""Reading a process's view of the kernel from /proc: the checks' outside-in evidence."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

# capabilities(7) numbering; index = bit.
CAP_NAMES = (
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_DAC_READ_SEARCH",
    "CAP_FOWNER",
    "CAP_FSETID",
    "CAP_KILL",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETPCAP",
    "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN",
    "CAP_NET_RAW",
    "CAP_IPC_LOCK",
    "CAP_IPC_OWNER",
    "CAP_SYS_MODULE",
    "CAP_SYS_RAWIO",
    "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",
    "CAP_SYS_ADMIN",
    "CAP_SYS_BOOT",
    "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE",
    "CAP_SYS_TIME",
    "CAP_SYS_TTY_CONFIG",
    "CAP_MKNOD",
    "CAP_LEASE",
    "CAP_AUDIT_WRITE",
    "CAP_AUDIT_CONTROL",
    "CAP_SETFCAP",
    "CAP_MAC_OVERRIDE",
    "CAP_MAC_ADMIN",
    "CAP_SYSLOG",
    "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND",
    "CAP_AUDIT_READ",
    "CAP_PERFMON",
    "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
)

# /proc/<pid>/status field per capability set name of the spec.
CAP_FIELDS = {
    "bounding": "CapBnd",
    "effective": "CapEff",
    "permitted": "CapPrm",
    "inheritable": "CapInh",
    "ambient": "CapAmb",
}

# /proc/<pid>/limits row title per RLIMIT_* name.
LIMIT_ROWS = {
    "Max cpu time": "RLIMIT_CPU",
    "Max file size": "RLIMIT_FSIZE",
    "Max data size": "RLIMIT_DATA",
    "Max stack size": "RLIMIT_STACK",
    "Max core file size": "RLIMIT_CORE",
    "Max resident set": "RLIMIT_RSS",
    "Max processes": "RLIMIT_NPROC",
    "Max open files": "RLIMIT_NOFILE",
    "Max locked memory": "RLIMIT_MEMLOCK",
    "Max address space": "RLIMIT_AS",
    "Max file locks": "RLIMIT_LOCKS",
    "Max pending signals": "RLIMIT_SIGPENDING",
    "Max msgqueue size": "RLIMIT_MSGQUEUE",
    "Max nice priority": "RLIMIT_NICE",
    "Max realtime priority": "RLIMIT_RTPRIO",
    "Max realtime timeout": "RLIMIT_RTTIME",
}

UNLIMITED = 2**64 - 1


def proc(pid: int | str) -> Path:
    return Path("/proc", str(pid))


def status(pid: int | str) -> dict[str, str]:
    fields: dict[str, str] = {}
    for line in (proc(pid) / "status").read_text().splitlines():
        key, _, value = line.partition(":")
        fields[key] = value.strip()
    return fields


def cap_names(mask: int) -> set[str]:
    names = set()
    for bit in range(mask.bit_length()):
        if mask >> bit & 1:
            names.add(CAP_NAMES[bit] if bit < len(CAP_NAMES) else f"CAP_{bit}")
    return names


def capabilities(pid: int | str) -> dict[str, set[str]]:
    """The five capability sets of ``pid``, by the spec's set names."""
    fields = status(pid)
    return {name: cap_names(int(fields[field], 16)) for name, field in CAP_FIELDS.items()}


def host_last_cap() -> int:
    try:
        return int(Path("/proc/sys/kernel/cap_last_cap").read_text())
    except OSError:
        return len(CAP_NAMES) - 1


def limits(pid: int | str) -> dict[str, tuple[int, int]]:
    """(soft, hard) per RLIMIT_* name; unlimited is 2**64-1 like getrlimit reports it."""
    result: dict[str, tuple[int, int]] = {}
    for line in (proc(pid) / "limits").read_text().splitlines()[1:]:
        for title, name in LIMIT_ROWS.items():
            if line.startswith(title):
                soft, hard = line[len(title) :].split()[:2]
                result[name] = (_limit(soft), _limit(hard))
    return result


def _limit(text: str) -> int:
    return UNLIMITED if text == "unlimited" else int(text)


def ns_link(pid: int | str, ns: str) -> str:
    return os.readlink(proc(pid) / "ns" / ns)


def cmdline(pid: int | str) -> list[str]:
    raw = (proc(pid) / "cmdline").read_bytes()
    return [part.decode(errors="replace") for part in raw.split(b"\0")[:-1]]


def environ(pid: int | str) -> list[str]:
    raw = (proc(pid) / "environ").read_bytes()
    return [part.decode(errors="replace") for part in raw.split(b"\0") if part]


def alive(pid: int) -> bool:
    """True while ``pid`` exists and is not a zombie."""
    try:
        text = (proc(pid) / "stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return False
    return text.rsplit(")", 1)[-1].split()[0] not in ("Z", "X")


@dataclass(frozen=True)
class Mount:
    mount_id: int
    parent_id: int
    dev: str
    root: str
    mountpoint: str
    options: frozenset[str]
    optional: tuple[str, ...]
    fstype: str
    source: str
    super_options: frozenset[str]

    def option(self, name: str) -> str | None:
        """Value of ``name=value`` among per-mount then super options, or None."""
        for opt in (*self.options, *self.super_options):
            key, sep, value = opt.partition("=")
            if key == name and sep:
                return value
        return None

    def propagation(self) -> set[str]:
        """Propagation tags: 'shared', 'master', 'unbindable'; empty means private."""
        return {field.split(":", 1)[0] for field in self.optional}


def _unescape(text: str) -> str:
    return text.replace("\\040", " ").replace("\\011", "\t").replace("\\012", "\n")


def mountinfo(pid: int | str = "self") -> list[Mount]:
    mounts = []
    for line in (proc(pid) / "mountinfo").read_text().splitlines():
        left, _, right = line.partition(" - ")
        fields = left.split()
        fstype, source, super_opts = (right.split() + ["", "", ""])[:3]
        mounts.append(
            Mount(
                mount_id=int(fields[0]),
                parent_id=int(fields[1]),
                dev=fields[2],
                root=_unescape(fields[3]),
                mountpoint=_unescape(fields[4]),
                options=frozenset(fields[5].split(",")),
                optional=tuple(fields[6:]),
                fstype=fstype,
                source=_unescape(source),
                super_options=frozenset(super_opts.split(",")),
            )
        )
    return mounts


def mount_at(mounts: list[Mount], mountpoint: str) -> Mount | None:
    """The topmost mount at ``mountpoint`` (the last one listed wins, as in the kernel)."""
    found = None
    for mount in mounts:
        if mount.mountpoint == mountpoint:
            found = mount
    return found
