"""Whether pyrunc runs rootless, by runc's rules: the default --root, the
--rootless auto-detection, and what an unprivileged euid changes.

Only the unprivileged path reads /proc: as root in the initial user namespace
each answer costs a geteuid() and, at most, one read of /proc/self/uid_map.
"""

from __future__ import annotations

import os

from runtime.errors import PyruncError

_ROOT_NS_MAP = b"0 0 4294967295"
_INIT_USER_NS = "user:[4026531837]"  # the kernel's PROC_USER_INIT_INO (0xEFFFFFFD)
_in_userns: bool | None = None


def in_user_namespace() -> bool:
    """runc's userns.RunningInUserNS: any uid_map but the initial namespace's identity.
    The initial namespace is known first by its fixed inode (PROC_USER_INIT_INO), one
    readlink: ~8 us where reading uid_map costs ~50."""
    global _in_userns
    if _in_userns is None:
        try:
            if os.readlink("/proc/self/ns/user") == _INIT_USER_NS:
                _in_userns = False
                return False
            with open("/proc/self/uid_map", "rb") as f:
                fields = f.read().split()
        except OSError:
            fields = []
        _in_userns = bool(fields) and b" ".join(fields[:3]) != _ROOT_NS_MAP
    return _in_userns


def honor_xdg_runtime_dir() -> bool:
    """runc's shouldHonorXDGRuntimeDir: an unprivileged euid, or root in a user
    namespace that is not called "root"."""
    if not os.environ.get("XDG_RUNTIME_DIR"):
        return False
    if os.geteuid() != 0:
        return True
    if not in_user_namespace():
        return False
    return os.environ.get("USER") != "root"


def xdg_root() -> str | None:
    """$XDG_RUNTIME_DIR/pyrunc when runc would use $XDG_RUNTIME_DIR/runc, else None."""
    return os.environ["XDG_RUNTIME_DIR"] + "/pyrunc" if honor_xdg_runtime_dir() else None


def prepare_xdg_root(path: str) -> None:
    """As runc: create the directory 0700 and set the sticky bit, which keeps a
    session manager from pruning it (XDG Base Directory specification)."""
    try:
        os.makedirs(path, 0o700, exist_ok=True)
    except OSError as e:
        raise PyruncError(f"the path in $XDG_RUNTIME_DIR must be writable by the user: "
                          f"mkdir {path}: {e.strerror}") from None
    try:
        os.chmod(path, 0o1700)
    except OSError as e:
        raise PyruncError(f"you should check permission of the path in $XDG_RUNTIME_DIR: "
                          f"chmod {path}: {e.strerror}") from None


_TRUE = ("1", "t", "T", "TRUE", "true", "True")
_FALSE = ("0", "f", "F", "FALSE", "false", "False")


def rootless_cgroups(flag: str, systemd: bool = False) -> bool:
    """runc's shouldUseRootlessCgroupManager: --rootless true/false as given (Go's
    ParseBool spellings); auto (or empty) is rootless for an unprivileged euid and
    for root in a user namespace (whose cgroups it cannot know it may write), but
    with --systemd-cgroup only when a user's bus is there and is not root's (runc
    asks `busctl --user status` for its OwnerUID; userbus.owner_uid() reads it)."""
    if flag in _TRUE:
        return True
    if flag in _FALSE:
        return False
    if flag and flag.lower() != "auto":
        raise PyruncError(f'strconv.ParseBool: parsing "{flag}": invalid syntax')
    if os.geteuid() != 0:
        return True
    if not in_user_namespace():
        return False
    if systemd:
        from runtime.cgroups.systemd.userbus import owner_uid

        return owner_uid() != 0
    return True
