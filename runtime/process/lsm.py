"""Linux security modules: process.apparmorProfile, process.selinuxLabel, linux.mountLabel.

Each is applied only when its LSM is enabled on the host; asking for a process
label or profile that is not is a create-time error (runc's wording for SELinux;
runc finds out about AppArmor only when the kernel refuses it in the init).  A
mount label without SELinux is ignored, as crun and go-selinux's
FormatMountLabel do: it labels files for a policy that is not there (runc 1.1.5
passes context= to the kernel anyway, which refuses the mount).
"""

from __future__ import annotations

import os

from runtime.errors import PyruncError


def apparmor_enabled() -> bool:
    """As runc: the securityfs directory exists and the module parameter says Y."""
    if not os.path.exists("/sys/kernel/security/apparmor"):
        return False
    try:
        with open("/sys/module/apparmor/parameters/enabled") as f:
            return f.read(1) == "Y"
    except OSError:
        return False


def selinux_enabled() -> bool:
    """As go-selinux: selinuxfs is mounted (at /sys/fs/selinux) and readable."""
    return os.path.exists("/sys/fs/selinux/enforce")


def check(config: dict) -> None:
    process = config.get("process") or {}
    if process.get("selinuxLabel") and not selinux_enabled():
        raise PyruncError("selinux label is specified in config, but selinux is disabled or "
                          "not supported")
    profile = process.get("apparmorProfile")
    if profile and not apparmor_enabled():
        raise PyruncError(f"apparmor profile {profile!r} is specified in config, but apparmor "
                          "is disabled or not supported")


def mount_label(linux: dict) -> str:
    """linux.mountLabel when SELinux can apply it, else ""."""
    label = linux.get("mountLabel") or ""
    return label if label and selinux_enabled() else ""


def _attr_file(name: str) -> str:
    """Newer kernels have per-LSM attribute directories; fall back to the shared one."""
    lsm_path = f"/proc/thread-self/attr/apparmor/{name}"
    if os.path.exists(f"/proc/self/attr/apparmor/{name}"):
        return lsm_path
    return f"/proc/thread-self/attr/{name}"


def apparmor_exec_write(profile: str) -> tuple[str, str] | None:
    """(file, content) that makes the next execve switch to the profile (aa_change_onexec)."""
    if not profile:
        return None
    return _attr_file("exec"), f"exec {profile}"


def selinux_exec_write(label: str) -> tuple[str, str] | None:
    """(file, content) that labels the process at its next execve (setexeccon)."""
    if not label:
        return None
    return "/proc/thread-self/attr/exec", label


def mount_data(data: str, label: str) -> str:
    """Filesystem data with the SELinux context option added, as go-selinux formats it."""
    if not label:
        return data
    ctx = f'context="{label}"'
    return f"{data},{ctx}" if data else ctx


# Filesystems runc mounts without the context= option (they label themselves or
# take no such option).
_UNLABELLED = ("proc", "sysfs", "mqueue", "cgroup", "cgroup2")


def labelled_mount(m: dict, label: str) -> dict:
    """config.mounts entry with the mount label as a context= option, when it takes one."""
    from runtime.process.mounts import is_bind

    if not label or is_bind(m) or m.get("type") in _UNLABELLED:
        return m
    return {**m, "options": [*(m.get("options") or []), f'context="{label}"']}
