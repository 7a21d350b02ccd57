"""linux.netDevices (config-linux.md "Network Devices"): host interfaces moved into
the container's network namespace, renamed as configured, with their permanent
global addresses, and set up.

The runtime does it at the "cgroups" sync point, when the container's network
namespace exists and nothing runs in it yet.  Nothing moves them back: when the
namespace goes, the kernel returns physical devices to the host and destroys
virtual ones (the spec's "Namespace Lifecycle and Container Termination").
pyroute2 does the netlink work; it is imported only for configs that need it.
"""

from __future__ import annotations

import os

from runtime.errors import PyruncError

_IFNAMSIZ = 16  # including the terminating NUL (<linux/if.h>)


def _valid_name(name: str) -> bool:
    return (0 < len(name) < _IFNAMSIZ and name not in (".", "..")
            and not any(c in name for c in "/: \t\n"))


def check(devices: dict, has_new_netns: bool) -> None:
    """What can be checked before anything is created."""
    if not devices:
        return
    if not has_new_netns:
        raise PyruncError("netDevices need a new network namespace for the container")
    seen: set[str] = set()
    for host_name, spec in devices.items():
        if not _valid_name(host_name):
            raise PyruncError(f"netDevices: invalid device name {host_name!r}")
        name = (spec or {}).get("name") or host_name
        if not _valid_name(name):
            raise PyruncError(f"netDevices: invalid name {name!r} for device {host_name}")
        if name in seen and "%d" not in name:
            raise PyruncError(f"netDevices: two devices named {name!r} in the container")
        seen.add(name)
        if not os.path.exists(f"/sys/class/net/{host_name}"):
            raise PyruncError(f"netDevices: no network device {host_name!r} on the host")


def move_all(pid: int, devices: dict) -> None:
    """Move every device into the network namespace of process pid."""
    if not devices:
        return
    from pyroute2 import IPRoute
    from pyroute2.netlink.exceptions import NetlinkError

    ns_path = f"/proc/{pid}/ns/net"
    ns_fd = os.open(ns_path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        with IPRoute() as host, IPRoute(netns=ns_path) as inside:
            for host_name, spec in devices.items():
                name = (spec or {}).get("name") or host_name
                try:
                    _move(host, inside, ns_fd, host_name, name)
                except NetlinkError as e:
                    raise PyruncError(f"move network device {host_name} into the container "
                                      f"as {name}: {os.strerror(e.code).lower()}") from None
    finally:
        os.close(ns_fd)


def _permanent_global_addresses(host, index: int) -> list[dict]:
    """Addresses flagged IFA_F_PERMANENT with universe scope, as the spec asks to keep."""
    from pyroute2.netlink.rtnl.ifaddrmsg import IFA_F_PERMANENT

    out = []
    for msg in host.get_addr(index=index):
        flags = msg.get_attr("IFA_FLAGS")
        if flags is None:
            flags = msg["flags"]
        if not flags & IFA_F_PERMANENT or msg["scope"] != 0:
            continue
        addr = {"family": msg["family"], "prefixlen": msg["prefixlen"],
                "address": msg.get_attr("IFA_ADDRESS")}
        local = msg.get_attr("IFA_LOCAL")
        if local:
            addr["local"] = local
        broadcast = msg.get_attr("IFA_BROADCAST")
        if broadcast:
            addr["broadcast"] = broadcast
        out.append(addr)
    return out


def _move(host, inside, ns_fd: int, host_name: str, name: str) -> None:
    found = host.link_lookup(ifname=host_name)
    if not found:
        raise PyruncError(f"netDevices: no network device {host_name!r} on the host")
    index = found[0]
    if "%d" not in name and inside.link_lookup(ifname=name):
        # Checked first: the kernel may move the device and only then refuse the name.
        raise PyruncError(f"move network device {host_name} into the container as {name}: "
                          "a device of that name exists there")
    addresses = _permanent_global_addresses(host, index)
    before = {link["index"] for link in inside.get_links()}
    # One request: the kernel renames while moving, and expands a %d template
    # against the names in the container's namespace.
    host.link("set", index=index, net_ns_fd=ns_fd, ifname=name)
    new = [link for link in inside.get_links() if link["index"] not in before]
    if len(new) != 1:
        raise PyruncError(f"netDevices: {host_name} did not arrive in the container")
    new_index = new[0]["index"]
    for addr in addresses:
        inside.addr("add", index=new_index, **addr)
    inside.link("set", index=new_index, state="up")
