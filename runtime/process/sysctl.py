"""linux.sysctl: which keys a container may set, and where each one is written.

/proc/sys is only partly namespaced, so a key is accepted only when the
namespace that owns it is the container's own (runc's validate rules, with its
wording): IPC keys need an ipc namespace, net.* a network namespace that is not
the runtime's, kernel.domainname a uts namespace (kernel.hostname conflicts
with the hostname field), user.* a user namespace.  Anything else would change
the host and is refused.
"""

from __future__ import annotations

import os

from runtime.errors import PyruncError
from runtime.process.namespaces import Namespaces

_IPC_KEYS = frozenset((
    "kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem", "kernel.shmall",
    "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced",
))


def dotted(key: str) -> str:
    """sysctl(8) accepts '/' as the separator too; "net/ipv4/conf/eth0.100/x" is
    "net.ipv4.conf.eth0/100.x" in dotted form (a '.' inside a component becomes '/')."""
    first = next((i for i, c in enumerate(key) if c in "./"), -1)
    if first < 0 or key[first] == ".":
        return key
    return key.translate(str.maketrans("./", "/."))


def proc_path(key: str) -> str:
    """The file under /proc/sys for a key in either notation."""
    return "/proc/sys/" + dotted(key).translate(str.maketrans("./", "/."))


def _is_host_netns(path: str) -> bool:
    try:
        a, b = os.stat("/proc/self/ns/net"), os.stat(path)
    except OSError as e:
        raise PyruncError(f"invalid netns path: stat {e.filename}: {e.strerror.lower()}") from None
    return (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino)


def check(sysctls: dict[str, str], ns: Namespaces) -> None:
    """Refuse keys the container's namespaces do not isolate."""
    hostnet: bool | None = None
    for raw in sysctls:
        key = dotted(raw)
        if key in _IPC_KEYS or key.startswith("fs.mqueue."):
            if ns.has("ipc"):
                continue
            raise PyruncError(f'sysctl "{key}" is not allowed in the hosts ipc namespace')
        if key.startswith("net."):
            if hostnet is None:
                path = ns.joined.get("network")
                hostnet = not ns.has("network") or (path is not None and _is_host_netns(path))
            if hostnet:
                raise PyruncError(f'sysctl "{key}" not allowed in host network namespace')
            continue
        if ns.has("uts"):
            if key == "kernel.domainname":
                continue
            if key == "kernel.hostname":
                raise PyruncError(f'sysctl "{key}" is not allowed as it conflicts with the '
                                  'OCI "hostname" field')
        if key.startswith("user."):
            if ns.has("user"):
                continue
            raise PyruncError(f"setting ucounts without a user namespace not allowed: {key}")
        raise PyruncError(f'sysctl "{key}" is not in a separate kernel namespace')
