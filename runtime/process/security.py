"""Everything about the process's identity and confinement that can be checked or
computed before anything exists: `create` calls prepare() first, so a bad value
fails with one line and leaves nothing behind.  The seccomp filter is compiled
here too (libseccomp runs in the runtime, never in the container process).
"""

from __future__ import annotations

import os

from runtime.errors import PyruncError
from runtime.process import lsm, parent
from runtime.process.namespaces import Namespaces

PERSONALITY_DOMAINS = ("LINUX", "LINUX32")


class Prepared:
    """What the plan and the sync points need beyond config.json."""

    def __init__(self) -> None:
        self.rlimits: list[tuple[int, int, int, str]] = []
        self.seccomp = None  # runtime.process.seccomp.Filter, when configured


def prepare(config: dict, ns: Namespaces, *, no_pivot: bool = False) -> Prepared:
    process = config.get("process") or {}
    linux = config.get("linux") or {}
    out = Prepared()
    _check_namespaces(config, linux, ns)
    if linux.get("sysctl"):
        from runtime.process import sysctl  # as sched below: only when configured

        sysctl.check(linux["sysctl"], ns)
    _check_rootfs_propagation(linux, no_pivot)
    lsm.check(config)
    if any(k in process for k in ("scheduler", "ioPriority", "execCPUAffinity")):
        from runtime.process import sched
    if "scheduler" in process:
        sched.check_scheduler(process["scheduler"])
    if "ioPriority" in process:
        sched.check_io_priority(process["ioPriority"])
    if process.get("execCPUAffinity"):
        # Only for processes `exec` starts (the spec and runc leave the init alone).
        sched.check_affinity(process["execCPUAffinity"])
    if "personality" in linux:
        domain = (linux["personality"] or {}).get("domain", "")
        if domain not in PERSONALITY_DOMAINS:
            raise PyruncError(f"invalid personality domain {domain}")
    out.rlimits = parent.check_rlimits(process)
    if linux.get("seccomp"):
        from runtime.process import seccomp

        out.seccomp = seccomp.compile_profile(linux["seccomp"])
    return out


def _check_rootless(config: dict, linux: dict, ns: Namespaces) -> None:
    """runc's rootlessEUID validation for an unprivileged caller, in its words: a user
    namespace with maps, and uid=/gid= mount options that name a mapped id."""
    if not ns.has("user"):
        raise PyruncError("rootless container requires user namespaces")
    if "user" in ns.joined:
        return
    for key, kind in (("uidMappings", "UID"), ("gidMappings", "GID")):
        if not linux.get(key):
            raise PyruncError(f"rootless containers requires at least one {kind} mapping")
    for m in config.get("mounts") or []:
        for opt in m.get("options") or []:
            for name, key in (("uid", "uidMappings"), ("gid", "gidMappings")):
                if not opt.startswith(name + "=") or not opt[4:].isdigit():
                    continue
                cid = int(opt[4:])
                if not any(int(r["containerID"]) <= cid < int(r["containerID"]) + int(r["size"])
                           for r in linux[key]):
                    raise PyruncError(f"cannot specify {name}= mount options for unmapped "
                                      f"{name} in rootless containers")


def _check_namespaces(config: dict, linux: dict, ns: Namespaces) -> None:
    """runc's validate rules for the namespaces this area depends on (its wording)."""
    if not ns.has("uts"):
        for key in ("hostname", "domainname"):
            if config.get(key):
                raise PyruncError(f"unable to set {key} without a private UTS namespace")
    if (linux.get("maskedPaths") or linux.get("readonlyPaths")) and not ns.has("mount"):
        raise PyruncError("unable to restrict sys entries without a private MNT namespace")
    has_maps = bool(linux.get("uidMappings") or linux.get("gidMappings"))
    if ns.has("user"):
        if not os.path.exists("/proc/self/ns/user"):
            raise PyruncError("user namespaces aren't enabled in the kernel")
        if "user" in ns.new and not has_maps:
            raise PyruncError("user namespaces enabled, but no namespace path to join nor "
                              "mappings to apply specified")
        if "user" in ns.joined and has_maps:
            raise PyruncError("user namespaces enabled, but both namespace path and mapping "
                              "specified -- you may only provide one")
        parent.check_id_mappings(linux)
    elif has_maps:
        raise PyruncError("user namespace mappings specified, but user namespace isn't "
                          "enabled in the config")
    if os.geteuid() != 0:
        _check_rootless(config, linux, ns)
    offsets = linux.get("timeOffsets")
    if ns.has("time"):
        if not os.path.exists("/proc/self/timens_offsets"):
            raise PyruncError("time namespaces aren't enabled in the kernel")
        if "time" in ns.joined and offsets is not None:
            raise PyruncError("time namespace enabled, but both namespace path and time "
                              "offsets specified -- you may only provide one")
        parent.check_time_offsets(offsets or {})
    elif offsets is not None:
        raise PyruncError("time namespace offsets specified, but time namespace isn't "
                          "enabled in the config")


def _check_rootfs_propagation(linux: dict, no_pivot: bool) -> None:
    from runtime.process.mount_options import PROPAGATION

    value = linux.get("rootfsPropagation") or ""
    if not value:
        return
    if value not in PROPAGATION:
        raise PyruncError(f"rootfsPropagation={value} is not supported")
    if no_pivot and value in ("private", "rprivate"):
        raise PyruncError("rootfsPropagation of [r]private is not safe without pivot_root")
