"""pyrunc's D-Bus client for systemd's manager object (org.freedesktop.systemd1).

jeepney (pure Python, blocking I/O, python3-jeepney in Debian) does the
protocol; this module is the few calls the driver makes, with jobs waited for
through the JobRemoved signal, as go-systemd does for runc.  Imported only
with --systemd-cgroup: jeepney costs ~16 ms of imports (docs/systemd.md).

Every failure is a SystemdError with one line; ``.name`` is the D-Bus error
name when systemd refused the call ("org.freedesktop.systemd1.UnitExists"...).
"""

from __future__ import annotations

import os

from runtime.cgroups import CgroupError

DEST = "org.freedesktop.systemd1"
PATH = "/org/freedesktop/systemd1"
MANAGER = "org.freedesktop.systemd1.Manager"
UNIT = "org.freedesktop.systemd1.Unit"
PROPS = "org.freedesktop.DBus.Properties"
SYSTEM_BUS = "/run/dbus/system_bus_socket"
JOB_TIMEOUT = 30.0   # runc's
CALL_TIMEOUT = 25.0  # D-Bus' default method call timeout


class SystemdError(CgroupError):
    def __init__(self, msg: str, name: str = "") -> None:
        super().__init__(msg)
        self.name = name


def bus_address() -> str:
    """The system bus (runc and crun use it, not systemd's private socket)."""
    addr = os.environ.get("DBUS_SYSTEM_BUS_ADDRESS", "")
    return addr or f"unix:path={SYSTEM_BUS}"


PRIVATE = "/run/systemd/private"


def _where(addr: str) -> str:
    return addr.removeprefix("unix:path=")


def _reason(e: Exception) -> str:
    """An OSError's strerror in lower case (Go's wording), else the exception's text."""
    return os.strerror(e.errno).lower() if isinstance(e, OSError) and e.errno else str(e)


def _open_bus(addr: str):
    from jeepney.io.blocking import open_dbus_connection

    try:
        return open_dbus_connection(addr)
    except (OSError, TimeoutError, ValueError) as e:
        raise SystemdError(f"dbus: cannot connect to the system bus at {_where(addr)}: "
                           f"{_reason(e)}") from None
    except Exception as e:  # noqa: BLE001 - jeepney's auth and Hello errors
        raise SystemdError(f"dbus: cannot connect to the system bus: {e}") from None


def _open_private():
    """A peer-to-peer connection to PID 1 (no bus daemon: no Hello, no AddMatch)."""
    from runtime.cgroups.systemd.userbus import connect

    try:
        return connect(PRIVATE, direct=True)
    except (OSError, TimeoutError, ValueError) as e:
        raise SystemdError(f"dbus: {e}") from None


class Systemd:
    """One connection to the system bus, talking to PID 1's manager; ``user``:
    to the session bus, talking to the user's manager (userbus.py)."""

    def __init__(self, user: bool = False) -> None:
        try:
            from jeepney import DBusAddress
        except ImportError:
            raise SystemdError("the systemd cgroup driver needs the Python package jeepney "
                               "(Debian: python3-jeepney)") from None
        self.direct = False
        self.manager = DBusAddress(PATH, bus_name=DEST, interface=MANAGER)
        self._jobs = None
        if user:
            self._open_user()
            return
        addr = bus_address()
        try:
            self.conn = _open_bus(addr)
        except SystemdError:
            # As go-systemd for runc: root may talk to systemd without the bus daemon.
            if os.geteuid() != 0 or not os.path.exists(PRIVATE):
                raise
            try:
                self.conn = _open_private()
            except SystemdError:
                raise SystemdError(f"dbus: cannot connect to the system bus at "
                                   f"{_where(addr)} nor to systemd at {PRIVATE}") from None
            self.direct = True

    def _open_user(self) -> None:
        from runtime.cgroups.systemd import userbus

        addr, private = userbus.bus_address(), userbus.private_socket()
        try:
            if addr:
                self.conn = userbus.connect(addr)
                return
            if private and os.path.exists(private):
                self.conn = userbus.connect(private, direct=True)
                self.direct = True
                return
        except (OSError, TimeoutError, ValueError) as e:
            raise SystemdError(f"dbus: cannot connect to the user's systemd at "
                               f"{_where(addr or private)}: {_reason(e)}") from None
        raise SystemdError("could not find the user's session bus: DBUS_SESSION_BUS_ADDRESS "
                           "is not set and there is no $XDG_RUNTIME_DIR/bus; install "
                           "dbus-user-session and run `systemctl --user start dbus`")

    def close(self) -> None:
        self.conn.close()

    # -- plumbing --------------------------------------------------------------
    def call(self, method: str, signature: str = "", body: tuple = (), *, address=None,
             what: str = ""):
        from jeepney import MessageType, new_method_call

        msg = new_method_call(address or self.manager, method, signature, body)
        try:
            reply = self.conn.send_and_get_reply(msg, timeout=CALL_TIMEOUT)
        except TimeoutError:
            raise SystemdError(f"{what or method}: no reply from systemd within "
                               f"{CALL_TIMEOUT:.0f} s") from None
        except OSError as e:
            raise SystemdError(f"{what or method}: dbus: {os.strerror(e.errno or 5).lower()}"
                               ) from None
        if reply.header.message_type == MessageType.error:
            from jeepney import HeaderFields

            name = reply.header.fields.get(HeaderFields.error_name, "")
            text = reply.body[0] if reply.body and isinstance(reply.body[0], str) else name
            raise SystemdError(f"{what or method}: {text}", name)
        return reply.body

    def _watch_jobs(self):
        """Subscribe to JobRemoved before starting a job: it may end before our
        call returns."""
        if self._jobs is None:
            from jeepney import MatchRule
            from jeepney.bus_messages import message_bus

            fields = {"type": "signal", "interface": MANAGER, "member": "JobRemoved",
                      "path": PATH}
            # Matched here without the sender: a signal carries systemd's unique
            # name, which jeepney would compare with the well-known one.
            self._jobs = self.conn.filter(MatchRule(**fields), bufsize=1000).queue
            if self.direct:  # systemd sends its signals to subscribers itself
                self.call("Subscribe", what="dbus: subscribe to systemd's jobs")
            else:
                rule = MatchRule(sender=DEST, **fields)  # the bus resolves the name
                self.call("AddMatch", "s", (rule.serialise(),), address=message_bus,
                          what="dbus: subscribe to systemd's jobs")
        return self._jobs

    def wait_job(self, job: str, timeout: float = JOB_TIMEOUT) -> str:
        """The result of ``job`` ("done", "failed", "canceled", ...)."""
        import time

        queue = self._watch_jobs()
        deadline = time.monotonic() + timeout
        while True:
            while queue:
                msg = queue.popleft()
                _id, path, _unit, result = msg.body
                if path == job:
                    return result
            left = deadline - time.monotonic()
            if left <= 0:
                return "timeout"
            try:
                queue.appendleft(self.conn.recv_until_filtered(queue, timeout=left))
            except TimeoutError:
                return "timeout"

    # -- systemd's manager -----------------------------------------------------
    def version(self) -> int:
        """systemd's version number ("252.33-1~deb12u1" -> 252), or -1."""
        from jeepney import DBusAddress

        props = DBusAddress(PATH, bus_name=DEST, interface=PROPS)
        try:
            (sig, value), = self.call("Get", "ss", (MANAGER, "Version"), address=props)
        except SystemdError:
            return -1
        digits = ""
        for ch in str(value).lstrip('"v'):
            if not ch.isdigit():
                break
            digits += ch
        return int(digits) if digits else -1

    def control_group(self) -> str:
        """The manager's own cgroup ("/user.slice/user-1000.slice/user@1000.service")."""
        from jeepney import DBusAddress

        props = DBusAddress(PATH, bus_name=DEST, interface=PROPS)
        (_sig, value), = self.call("Get", "ss", (MANAGER, "ControlGroup"), address=props,
                                   what="dbus: the manager's cgroup")
        return str(value)

    def start_transient_unit(self, name: str, properties: list) -> str:
        self._watch_jobs()
        (job,) = self.call("StartTransientUnit", "ssa(sv)a(sa(sv))",
                           (name, "replace", properties, []))
        return job

    def stop_unit(self, name: str) -> str:
        self._watch_jobs()
        (job,) = self.call("StopUnit", "ss", (name, "replace"))
        return job

    def reset_failed_unit(self, name: str) -> None:
        self.call("ResetFailedUnit", "s", (name,))

    def set_unit_properties(self, name: str, properties: list, runtime: bool = True) -> None:
        self.call("SetUnitProperties", "sba(sv)", (name, runtime, properties))

    def unit_property(self, name: str, interface: str, prop: str):
        """A property of a loaded unit (None when systemd has no such unit)."""
        from jeepney import DBusAddress

        try:
            (path,) = self.call("GetUnit", "s", (name,))
        except SystemdError as e:
            if e.name == "org.freedesktop.systemd1.NoSuchUnit":
                return None
            raise
        props = DBusAddress(path, bus_name=DEST, interface=PROPS)
        (_sig, value), = self.call("Get", "ss", (interface, prop), address=props)
        return value
