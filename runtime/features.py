"""The runtime-spec Features structure (features.md, features-linux.md): what this
build of pyrunc recognizes and implements, from the same tables the runtime uses,
so that the document can't claim what the code does not do."""

from __future__ import annotations

from runtime import SPEC_VERSION

OCI_VERSION_MIN = "1.0.0"

# The spec's seccomp architecture names; those libseccomp can resolve are listed.
SECCOMP_ARCHS = (
    "SCMP_ARCH_X86", "SCMP_ARCH_X86_64", "SCMP_ARCH_X32", "SCMP_ARCH_ARM", "SCMP_ARCH_AARCH64",
    "SCMP_ARCH_MIPS", "SCMP_ARCH_MIPS64", "SCMP_ARCH_MIPS64N32", "SCMP_ARCH_MIPSEL",
    "SCMP_ARCH_MIPSEL64", "SCMP_ARCH_MIPSEL64N32", "SCMP_ARCH_PPC", "SCMP_ARCH_PPC64",
    "SCMP_ARCH_PPC64LE", "SCMP_ARCH_S390", "SCMP_ARCH_S390X", "SCMP_ARCH_PARISC",
    "SCMP_ARCH_PARISC64", "SCMP_ARCH_RISCV64", "SCMP_ARCH_LOONGARCH64", "SCMP_ARCH_M68K",
    "SCMP_ARCH_SH", "SCMP_ARCH_SHEB",
)


def mount_options() -> list[str]:
    from runtime.process import mount_options as mo

    return sorted({*mo.FLAGS, *mo.PROPAGATION, *mo.RECURSIVE, *mo.IDMAP})


def _seccomp() -> dict:
    from runtime.errors import PyruncError
    from runtime.native import lib
    from runtime.process import seccomp

    archs = []
    for name in SECCOMP_ARCHS:
        try:
            seccomp.arch_token(name)
        except PyruncError:
            continue
        archs.append(name)
    known = sorted(seccomp._FLAGS)  # noqa: SLF001 - the compiler's own table
    supported = []
    for name in known:
        value = seccomp._FLAGS[name]  # noqa: SLF001
        if value & lib.SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV:
            value |= lib.SECCOMP_FILTER_FLAG_NEW_LISTENER  # the kernel wants them together
        if value == 0 or lib.pyrunc_seccomp_flags_known(value):
            supported.append(name)
    return {
        "enabled": True,
        "actions": sorted({*seccomp._FIXED_ACTIONS, *seccomp._ERRNO_ACTIONS}),  # noqa: SLF001
        "operators": sorted(seccomp._OPERATORS),  # noqa: SLF001
        "archs": archs,
        "knownFlags": known,
        "supportedFlags": supported,
    }


def _linux() -> dict:
    from runtime.process import capabilities, mempolicy
    from runtime.process.namespaces import KINDS

    known_caps = capabilities.numbers()
    return {
        "namespaces": sorted(KINDS),
        "capabilities": [c for c in capabilities.NAMES if c in known_caps],
        # cgroupfs drivers for v1, v2 and hybrid hosts; systemd with --systemd-cgroup, the
        # user's instance for a rootless container (cgroup v2).
        "cgroup": {"v1": True, "v2": True, "systemd": True, "systemdUser": True,
                   "rdma": True},
        "seccomp": _seccomp(),
        "apparmor": {"enabled": True},
        "selinux": {"enabled": True},
        "intelRdt": {"enabled": False},
        "memoryPolicy": {"modes": mempolicy.modes(), "flags": mempolicy.flags()},
        "mountExtensions": {"idmap": {"enabled": True}},
        "netDevices": {"enabled": True},
    }


def features() -> dict:
    from runtime.lifecycle.hooks import ORDER
    from runtime.version import libseccomp_version

    return {
        "ociVersionMin": OCI_VERSION_MIN,
        "ociVersionMax": SPEC_VERSION,
        "hooks": list(ORDER),
        "mountOptions": mount_options(),
        "linux": _linux(),
        "annotations": {
            "io.github.seccomp.libseccomp.version": libseccomp_version(),
            # runc's key, read by clients deciding whether to offer checkpoints.
            CHECKPOINT_ENABLED: "true" if checkpoint_enabled() else "false",
        },
        # org.criu.config names the criu configuration file of a checkpoint or
        # restore (runc's annotation, lifecycle/checkpoint.py).
        "potentiallyUnsafeConfigAnnotations": ["org.criu.config"],
    }


CHECKPOINT_ENABLED = "org.opencontainers.runc.checkpoint.enabled"


def checkpoint_enabled() -> bool:
    """Whether `checkpoint` and `restore` can talk to criu here: criu's RPC messages
    and protobuf are installed (found, not imported: ~30 ms).  Like runc's (a build
    option there), it says nothing of the kernel: criu itself checks that."""
    from runtime.criu.messages import has_protobuf, rpc_pb2_path

    return bool(rpc_pb2_path()) and has_protobuf()
