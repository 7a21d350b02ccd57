"""Checks runc 1.1.5 genuinely fails (or skips), with why. The suite must report them as such;
if runc starts passing one, the test says so and the entry goes."""

RUNC = "/usr/sbin/runc"

KNOWN_FAILURES: dict[str, str] = {
    "lifecycle.delete.created": "runc delete kills and removes a created container instead of "
    "refusing (the spec allows delete only when stopped)",
    "process.domainname": "runc 1.1.5 predates domainname support (added in runc 1.2)",
    "user.umask.unset": "runc sets umask 0022 when process.user.umask is unset",
    "mount-options.defaults": "runc 1.1.5 does not know 'defaults' and passes it to the "
    "filesystem, which rejects it",
    "namespaces.time.new": "runc 1.1.5 has no time namespace support (added in runc 1.2)",
    "namespaces.time.offsets": "runc 1.1.5 has no time namespace support (added in runc 1.2)",
    "devices.existing-mismatch": "runc 1.1.5 creates the device over an existing regular file "
    "instead of refusing",
    "cgroups.cpu.burst": "runc 1.1.5 ignores cpu.burst",
    "cgroups.cpu.idle": "runc 1.1.5 ignores cpu.idle",
    "cgroups.pids.zero": "runc 1.1.5 treats pids.limit 0 as unset",
    "seccomp.errnoRet-without-errno": "runc 1.1.5 accepts errnoRet with SCMP_ACT_KILL silently",
    "hooks.poststart.after-program": "runc 1.1.5 runs poststart hooks during create, before the "
    "user program is executed",
    "hooks.order": "runc 1.1.5 runs poststart hooks during create, before startContainer",
    "hooks.poststart.failure": "runc 1.1.5 runs poststart hooks during create, so create fails",
    "hooks.startContainer.failure": "runc 1.1.5 start returns before the init ran the "
    "startContainer hooks, so their failure does not fail start",
    "hooks.poststop.failure": "runc 1.1.5 stops running poststop hooks at the first failure",
    "process.personality": "runc 1.1.5 predates personality support (added in runc 1.2)",
    "process.ioPriority": "runc 1.1.5 predates ioPriority support (added in runc 1.2)",
    "process.scheduler": "runc 1.1.5 predates scheduler support (added in runc 1.2)",
    "root.propagation.shared": "runc 1.1.5 does not apply rootfsPropagation to the final root",
    "root.propagation.slave": "runc 1.1.5 does not apply rootfsPropagation to the final root",
    "root.propagation.unbindable": "runc 1.1.5 does not apply rootfsPropagation to the final root",
    "mount-options.ratime": "runc 1.1.5 clears noatime recursively with an invalid "
    "mount_setattr() (EINVAL)",
}

KNOWN_SKIPS: dict[str, str] = {}
