"""The user's systemd instance for a rootless container: where its bus is, where
its units live, and a connection that authenticates as the kernel sees us (also
used for PID 1's private socket).

runc (libcontainer/cgroups/systemd/user.go) finds the bus the same way and asks
`busctl --user status` for the owner's uid, because inside a user namespace (rootless
podman runs the runtime as root in its own) the euid is not the uid the bus sees.
Here the client sends EXTERNAL without an identity, as sd-bus does, so the bus
takes the uid from the socket's peer credentials, and the owner's uid comes from
the bus's own cgroup (owner_uid()): no process to spawn.
"""

from __future__ import annotations

import os


def bus_address() -> str:
    """$DBUS_SESSION_BUS_ADDRESS, else $XDG_RUNTIME_DIR/bus (runc's order)."""
    addr = os.environ.get("DBUS_SESSION_BUS_ADDRESS", "")
    if addr:
        return addr
    xdg = os.environ.get("XDG_RUNTIME_DIR", "")
    if xdg and os.path.exists(os.path.join(xdg, "bus")):
        return f"unix:path={xdg}/bus"
    return ""


def private_socket() -> str:
    """The user manager's own socket, for a session without a bus daemon."""
    xdg = os.environ.get("XDG_RUNTIME_DIR", "")
    return os.path.join(xdg, "systemd/private") if xdg else ""


def transient_dir() -> str:
    """Where the user manager keeps its transient units' files ("" if unknown)."""
    xdg = os.environ.get("XDG_RUNTIME_DIR", "")
    return os.path.join(xdg, "systemd/transient") if xdg else ""


def _socket_path(addr: str) -> str:
    """The socket of the first unix address in a D-Bus address ("" if none)."""
    for one in addr.split(";"):
        kind, _, rest = one.partition(":")
        if kind != "unix":
            continue
        for pair in rest.split(","):
            key, _, value = pair.partition("=")
            if key == "path":
                return value
            if key == "abstract":
                return "\0" + value
    return ""


_owner: int | None = None


def owner_uid() -> int:
    """The uid whose session the user's bus belongs to: the "user-<uid>.slice" in
    the cgroup of the process at the other end of the socket, which the kernel names
    for us (SO_PEERCRED, its pid in our pid namespace).  sd-bus's OwnerUID, as runc
    reads it through busctl; 0 when there is no bus or no user slice.  Asked once
    per command (--rootless auto, then the unit's path)."""
    global _owner
    if _owner is None:
        _owner = _find_owner()
    return _owner


def _find_owner() -> int:
    import socket
    import struct

    addr = bus_address()
    path = _socket_path(addr) if addr else private_socket()
    if not path or (not addr and not os.path.exists(path)):
        return 0
    try:
        with socket.socket(socket.AF_UNIX) as sock:
            sock.settimeout(2.0)
            sock.connect(path)
            pid, _uid, _gid = struct.unpack("3i", sock.getsockopt(
                socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i")))
        with open(f"/proc/{pid}/cgroup") as f:
            lines = f.read().splitlines()
    except (OSError, ValueError):
        return 0
    for line in lines:
        _, controllers, cg = line.split(":", 2)
        if controllers not in ("", "name=systemd"):
            continue
        for part in cg.split("/"):
            uid = part.removeprefix("user-").removesuffix(".slice")
            if part.startswith("user-") and part.endswith(".slice") and uid.isdigit():
                return int(uid)
    return 0


def manager_cgroup(uid: int) -> str:
    """Where a user's manager lives in the hierarchy on every systemd we know;
    apply() asks the manager itself (its ControlGroup) and corrects this (a bus
    whose owner is unknown gives uid 0 here, and the path from there)."""
    return f"/user.slice/user-{uid}.slice/user@{uid}.service"


def connect(addr: str, *, direct: bool = False):
    """A jeepney connection to ``addr`` (a D-Bus address, or a socket path),
    authenticated with EXTERNAL and no identity; ``direct``: a peer (the
    manager's private socket), so no Hello."""
    import socket

    from jeepney.io.blocking import DBusConnection, DBusConnectionBase
    from jeepney.io.common import MessageFilters

    path = _socket_path(addr) if addr.startswith("unix:") else addr
    if not path:
        raise ValueError(f"no unix socket to connect to in {addr}")
    sock = socket.socket(socket.AF_UNIX)
    sock.settimeout(2.0)
    try:
        sock.connect(path)
        _authenticate(sock)
        sock.settimeout(None)
    except BaseException:
        sock.close()
        raise
    if not direct:
        return DBusConnection(sock)
    conn = DBusConnection.__new__(DBusConnection)
    DBusConnectionBase.__init__(conn, sock, False)
    conn._filters = MessageFilters()
    return conn


def _authenticate(sock) -> None:
    """SASL EXTERNAL with an empty authorization identity: the server answers DATA,
    our empty DATA makes it use SO_PEERCRED (D-Bus specification, "EXTERNAL")."""
    sock.sendall(b"\0AUTH EXTERNAL\r\nDATA\r\n")
    buf = b""
    while True:
        chunk = sock.recv(512)
        if not chunk:
            raise ValueError("the bus closed the connection during authentication")
        buf += chunk
        while b"\r\n" in buf:
            line, buf = buf.split(b"\r\n", 1)
            if line.startswith(b"OK"):
                sock.sendall(b"BEGIN\r\n")
                return
            if line != b"DATA" and not line.startswith(b"DATA "):
                raise ValueError(f"authentication refused: {line.decode(errors='replace')}")
