"""Capability names -> bit masks.  Numbers come from the kernel headers via the
extension; names the headers don't know are skipped with a warning, like runc."""

from __future__ import annotations

from runtime.log import log

# Every capability name the OCI spec and Linux define, in kernel order.
NAMES = (
    "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID",
    "CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW",
    "CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE", "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE",
    "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN",
    "CAP_SYSLOG", "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON",
    "CAP_BPF", "CAP_CHECKPOINT_RESTORE",
)

_numbers: dict[str, int] | None = None


def numbers() -> dict[str, int]:
    """Name -> number for the capabilities this host's kernel knows."""
    global _numbers
    if _numbers is None:
        from runtime.native import lib

        try:
            with open("/proc/sys/kernel/cap_last_cap") as f:
                last = int(f.read())
        except OSError:
            last = 40
        _numbers = {}
        for name in NAMES:
            value = getattr(lib, name, None)
            if value is not None and value <= last:
                _numbers[name] = value
    return _numbers


SETS = ("bounding", "effective", "permitted", "inheritable", "ambient")


def mask(names: list[str] | None, unknown: set[str] | None = None) -> int:
    """Bit mask of the named capabilities; names this kernel lacks go to `unknown`."""
    known = numbers()
    bits = 0
    for name in names or []:
        n = known.get(name)
        if n is None:
            if unknown is not None:
                unknown.add(name)
            continue
        bits |= 1 << n
    return bits


def masks(caps: dict) -> dict[str, int]:
    """process.capabilities -> {set name: mask}; unknown or unavailable names are
    skipped with one warning, as runc does."""
    unknown: set[str] = set()
    out = {key: mask(caps.get(key), unknown) for key in SETS}
    if unknown:
        log.warning(f"ignoring unknown or unavailable capabilities: {sorted(unknown)}")
    return out
