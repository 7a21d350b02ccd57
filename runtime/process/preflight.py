"""Checks of the newer linux.* fields before anything is created: netDevices,
memoryPolicy, intelRdt and idmapped mounts (whose work happens later)."""

from __future__ import annotations

from runtime.errors import PyruncError
from runtime.process.namespaces import Namespaces


def check(config: dict, ns: Namespaces) -> None:
    linux = config.get("linux") or {}
    if linux.get("intelRdt") is not None:
        check_intel_rdt()
    if linux.get("memoryPolicy"):
        from runtime.process import mempolicy

        mempolicy.resolve(linux["memoryPolicy"])
    if linux.get("netDevices"):
        from runtime.process import netdevices

        netdevices.check(linux["netDevices"], "network" in ns.new)
    for m in config.get("mounts") or []:
        if m.get("uidMappings") or m.get("gidMappings") or any(
                o in ("idmap", "ridmap") for o in m.get("options") or []):
            _check_idmapped(m, linux, ns)


def resctrl_mounted() -> bool:
    try:
        with open("/proc/self/mountinfo") as f:
            return any(line.split(" - ", 1)[-1].startswith("resctrl ") for line in f)
    except OSError:
        return False


def check_intel_rdt() -> None:
    if not resctrl_mounted():
        raise PyruncError("linux.intelRdt is set, but Intel RDT is not supported on this host "
                          "(no resctrl filesystem is mounted)")
    raise PyruncError("linux.intelRdt is set, but pyrunc does not implement Intel RDT")


def _check_idmapped(m: dict, linux: dict, ns: Namespaces) -> None:
    from runtime.process.mounts import is_bind

    dest = m.get("destination") or ""
    if not is_bind(m):
        raise PyruncError(f"mount {dest}: idmapped mounts are supported for bind mounts only")
    if bool(m.get("uidMappings")) != bool(m.get("gidMappings")):
        raise PyruncError(f"mount {dest}: uidMappings and gidMappings must be given together")
    if not m.get("uidMappings") and not ("user" in ns.new and linux.get("uidMappings")):
        raise PyruncError(f"mount {dest}: idmapped mount without uidMappings and gidMappings "
                          "needs the container to have a user namespace")
