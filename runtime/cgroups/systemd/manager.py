"""runc's systemd cgroup driver: a transient scope per container, with the
cgroupfs driver (v1/manager.py or v2/manager.py) in the unit's cgroup for what
systemd has no property for.

Order (docs/systemd.md): nothing exists before the container's init does;
``set`` before ``apply`` only checks and keeps the limits; ``apply(pid)``, at
the init's "cgroups" sync, starts "<prefix>-<name>.scope" with PIDs=[pid] and
the limits as properties, waits for systemd's job, then lets the cgroupfs
driver write the rest into the scope's cgroup.  ``destroy`` stops the unit
(and resets it when it failed) unless systemd has dropped it already, then
removes what is left of the directories.
"""

from __future__ import annotations

import os

from runtime.cgroups import CgroupError
from runtime.cgroups.interface import Manager
from runtime.cgroups.systemd import properties as props_mod
from runtime.cgroups.systemd.dbus import SystemdError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Collection

UNIT_EXISTS = "org.freedesktop.systemd1.UnitExists"
NO_SUCH_UNIT = "org.freedesktop.systemd1.NoSuchUnit"
ANY_VERSION = 1 << 30  # a systemd that takes every property we know
TRANSIENT_DIR = "/run/systemd/transient"  # systemd's files of its transient units


class SystemdManager(Manager):
    joins_existing = False    # a unit of the same name makes StartTransientUnit fail

    def __init__(self, fs: Manager, *, unit: str, slice_: str, name: str,
                 extra: list | None = None, started: bool = False, user: bool = False) -> None:
        super().__init__(container_id=fs.container_id, cgroups_path=fs.cgroups_path,
                         rootless=fs.rootless, resources=fs.resources, created=fs.created)
        self.fs = fs
        self.mode = fs.mode
        self.unit = unit
        self.slice = slice_
        self.name = name
        self.extra = extra or []          # org.systemd.property.* annotations
        self.started = started            # we started the unit (and may stop it)
        self.user = user                  # the user's manager (rootless), not PID 1
        self.warnings = fs.warnings
        self._bus = None
        self._version: int | None = None
        self._pending: tuple | None = None  # what set() got before apply()

    # -- D-Bus -----------------------------------------------------------------
    @property
    def bus(self):
        if self._bus is None:
            from runtime.cgroups.systemd.dbus import Systemd

            self._bus = Systemd(user=self.user)
        return self._bus

    @property
    def version(self) -> int:
        if self._version is None:
            self._version = self.bus.version()
        return self._version

    def _resource_props(self, res: dict, rules: list | None, version: int | None = None) -> list:
        return props_mod.from_resources(res, unified=self.mode == "unified",
                                        version=self.version if version is None else version,
                                        rules=rules)

    # -- the interface -----------------------------------------------------------
    def create(self) -> None:
        """Nothing to make before the init exists.  The bus is reached at apply(),
        as runc does: the init, cloned before, then holds no copy of the D-Bus
        client (~2.7 MiB); an unreachable bus still leaves nothing behind."""

    def joinable_paths(self) -> dict[str, str]:
        return {}  # systemd moves the init in (PIDs=), the init joins nothing itself

    def apply(self, pid: int, joined: Collection[str] = ()) -> None:
        from spec.jsonio import clone

        oci, linux_devices, res, rules = self._pending or ({}, None, {}, None)
        res = clone(res)
        props = props_mod.start_properties(self.unit, self.slice, pid,
                                           unified=self.mode == "unified", name=self.name,
                                           res=res, version=self.version)
        props += self._resource_props(res, rules) + self.extra
        if self.user:
            self._follow_manager()
        self._start(props)
        self.started = True
        self._join_fs(pid)
        if self._pending is not None:
            self._pending = None
            self.fs.set(_rounded(oci, res), linux_devices=linux_devices)

    def _follow_manager(self) -> None:
        """The user manager's units are under its ControlGroup; where that is not
        the usual user@<uid>.service, point the cgroupfs driver there."""
        from runtime.cgroups.systemd import fs_manager, unit

        cg = self.bus.control_group()
        inner = os.path.join(cg, unit.expand_slice(self.slice).lstrip("/"), self.unit)
        if cg and not self.fs.path.endswith(inner):
            self.fs = fs_manager(inner, container_id=self.fs.container_id,
                                 cgroups_path=self.fs.cgroups_path, rootless=True)
            self.fs.warnings = self.warnings

    def _start(self, props: list) -> None:
        bus = self.bus
        for attempt in (0, 1):
            try:
                job = bus.start_transient_unit(self.unit, props)
                break
            except SystemdError as e:
                if e.name != UNIT_EXISTS or attempt:
                    raise CgroupError(f'unable to start unit "{self.unit}": '
                                      f"{str(e).split(': ', 1)[-1]}") from None
                # Perhaps a failed leftover: let systemd drop it, and try once more.
                try:
                    bus.reset_failed_unit(self.unit)
                except SystemdError:
                    pass
        result = bus.wait_job(job)
        if result != "done":
            try:
                bus.reset_failed_unit(self.unit)
            except SystemdError:
                pass
            if result == "timeout":
                raise CgroupError(f"Timeout waiting for systemd to create {self.unit}")
            raise CgroupError(f"error creating systemd unit `{self.unit}`: got `{result}`")

    def _join_fs(self, pid: int) -> None:
        """The cgroupfs side: directories systemd did not make (v1 hierarchies it
        does not manage), controllers enabled down the path, the pid everywhere."""
        self.fs.create()
        joined = set(_cgroups_of(pid, self.fs))
        self.fs.apply(pid, joined)

    def set(self, resources: dict, *, linux_devices: list | None = None) -> None:  # noqa: A003
        from runtime.cgroups import resources as res_mod
        from runtime.cgroups.devices import rules_from_oci

        res = res_mod.validate(resources, self.warnings)
        rules = rules_from_oci(res.get("devices") or [], linux_devices)
        if self.mode == "unified" or not self.fs.paths.get("devices"):
            from runtime.cgroups.v2 import devicefilter

            devicefilter.build(rules)   # refuse bad rules before anything is made
        if not self.started:
            # Before the clone: refuse what no systemd would take, every version's
            # properties checked without asking systemd's (the bus comes at apply).
            self._resource_props(res, rules, version=ANY_VERSION)
            self._pending = (resources, linux_devices, res, rules)
            self._remember(res)
            return
        props = self._resource_props(res, rules)  # refuses what systemd would not take
        self._set_props(props)
        self.fs.set(_rounded(resources, res), linux_devices=linux_devices)

    def update(self, resources: dict) -> None:
        from runtime.cgroups import resources as res_mod

        new = res_mod.validate(resources, self.warnings)
        write, _merged = res_mod.merge_update(self.resources, new)
        self._set_props(self._resource_props(write, None))
        self.fs.update(_rounded(resources, write))

    def _set_props(self, props: list) -> None:
        if not props:
            return
        try:
            self.bus.set_unit_properties(self.unit, props)
        except SystemdError as e:
            raise CgroupError(f"unable to set unit properties: {str(e).split(': ', 1)[-1]}"
                              ) from None

    def freeze(self) -> None:
        self.fs.freeze()

    def thaw(self) -> None:
        self.fs.thaw()

    def freezer_state(self) -> str:
        return self.fs.freezer_state()

    def pids(self) -> list[int]:
        return self.fs.pids()

    def stats(self) -> dict:
        return self.fs.stats()

    def oom_kill_count(self) -> int:
        return self.fs.oom_kill_count()

    def oom_watcher(self):
        return self.fs.oom_watcher()

    def exists(self) -> bool:
        return self.fs.exists()

    def __getattr__(self, name: str):
        # kill_all, path(), paths ... of the cgroupfs driver
        if name == "fs":
            raise AttributeError(name)
        return getattr(self.fs, name)

    def destroy(self) -> None:
        # Not started by us: the unit and its cgroup, if any, are someone else's.
        if self.started:
            if self.unit_may_be_loaded():
                self.stop_unit()
            self.started = False
            self.fs.destroy()

    def unit_may_be_loaded(self) -> bool:
        """False only when systemd has certainly dropped the unit: its cgroup is
        gone and so is the file systemd keeps for a transient unit while it is
        loaded (a failed one included) and unlinks when it frees it.  A container
        whose processes all exited is usually there: delete then needs no D-Bus
        (the client's import, a connection, a job)."""
        where = TRANSIENT_DIR
        if self.user:
            from runtime.cgroups.systemd.userbus import transient_dir

            where = transient_dir()
        if not where or not os.path.isdir(where) or self.fs.exists():
            return True
        return os.path.lexists(os.path.join(where, self.unit))

    def stop_unit(self) -> None:
        """runc's stopUnit: stop, wait, then reset it (a failed unit stays listed)."""
        bus = self.bus
        try:
            job = bus.stop_unit(self.unit)
        except SystemdError as e:
            if e.name != NO_SUCH_UNIT:
                raise CgroupError(f'unable to stop unit "{self.unit}": '
                                  f"{str(e).split(': ', 1)[-1]}") from None
        else:
            result = bus.wait_job(job)
            if result == "timeout":
                raise CgroupError(f"Timed out while waiting for systemd to remove {self.unit}")
        try:
            bus.reset_failed_unit(self.unit)
        except SystemdError:
            pass
        self.started = False

    def to_state(self) -> dict:
        out = self.fs.to_state()
        out.update(driver="systemd", unit=self.unit, slice=self.slice, name=self.name,
                   started=self.started)
        if self.user:
            out["user"] = True
        return out


def _rounded(oci: dict, res: dict) -> dict:
    """The OCI resources with the CPU quota systemd rounded (runc writes that one)."""
    quota = (res.get("cpu") or {}).get("quota")
    if not quota or (oci.get("cpu") or {}).get("quota") in (None, quota):
        return oci
    out = dict(oci)
    out["cpu"] = dict(oci["cpu"], quota=quota)
    return out


def _cgroups_of(pid: int, fs: Manager) -> list[str]:
    """Keys of fs.joinable_paths() the process is in already (systemd put it there):
    writing cgroup.procs again would cost the kernel's global lock for nothing."""
    try:
        with open(f"/proc/{pid}/cgroup") as f:
            lines = f.read().splitlines()
    except OSError:
        return []
    where = {}
    for line in lines:
        _, controllers, path = line.split(":", 2)
        for c in controllers.split(",") if controllers else [""]:
            where[c] = path
    out = []
    for key, path in fs.joinable_paths().items():
        if key in where and path.endswith(where[key]) and where[key] != "/":
            out.append(key)
    return out
