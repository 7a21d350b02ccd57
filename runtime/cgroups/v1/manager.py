"""Manager for cgroup v1 and hybrid layouts (runc's "fs" driver).

One directory per v1 hierarchy.  In hybrid mode the container also gets a
directory in the cgroup2 hierarchy (as runc does, joined on a best-effort
basis); limits for controllers that v1 does not have but cgroup2 offers (here:
hugetlb) are set there, enabling the controller down the path on demand.
"""

from __future__ import annotations

import errno
import os

from runtime.cgroups import BEST_EFFORT as _BEST_EFFORT
from runtime.cgroups import CgroupError
from runtime.cgroups.files import CgroupFileError, q
from runtime.cgroups.interface import Manager, all_pids, joined_itself, remove_paths, write_procs
from runtime.cgroups.paths import V1_SUBSYSTEMS

TYPE_CHECKING = False  # typing costs ~7 ms of imports
if TYPE_CHECKING:
    from collections.abc import Collection

# Which linux.resources group can concern a controller (checked before importing it).
_RESOURCE_GROUP = {
    "cpuset": "cpu", "memory": "memory", "cpu": "cpu", "pids": "pids", "blkio": "blockIO",
    "hugetlb": "hugepageLimits", "net_cls": "network", "net_prio": "network", "rdma": "rdma",
}
# v1 controller -> its cgroup2 counterpart (for hybrid fallbacks).
_V2_NAME = {"memory": "memory", "cpu": "cpu", "cpuset": "cpuset", "pids": "pids",
            "blkio": "io", "hugetlb": "hugetlb", "rdma": "rdma"}
_STATS_ORDER = ("cpuset", "memory", "cpu", "cpuacct", "pids", "blkio", "hugetlb", "rdma")
_ROOTLESS_IGNORABLE = (errno.EPERM, errno.EACCES, errno.EROFS)


def _v1(name: str):
    return __import__(f"runtime.cgroups.v1.{name}", fromlist=["_"])


def _v2(name: str):
    return __import__(f"runtime.cgroups.v2.{name}", fromlist=["_"])


class V1Manager(Manager):
    def __init__(self, paths: dict[str, str], *, mode: str = "v1", unified_mount: str = "",
                 **kw) -> None:
        super().__init__(**kw)
        self.mode = mode
        self.paths = paths            # controller ("" = cgroup2 side) -> directory
        self.unified_mount = unified_mount

    # -- helpers ------------------------------------------------------------
    def path(self, subsystem: str) -> str:
        return self.paths.get(subsystem, "")

    def _ignorable(self, sub: str, err: CgroupError) -> bool:
        if sub in _BEST_EFFORT:
            return True
        return (self.rootless and not self.cgroups_path and isinstance(err, CgroupFileError)
                and err.errno in _ROOTLESS_IGNORABLE)

    def _unified_available(self) -> set[str]:
        if self.mode != "hybrid" or not self.paths.get(""):
            return set()
        try:
            with open(os.path.join(self.unified_mount, "cgroup.controllers")) as f:
                return set(f.read().split())
        except OSError:
            return set()

    def _devices_on_v2(self) -> bool:
        """Hybrid without a v1 devices hierarchy: device rules are an eBPF program."""
        return self.mode == "hybrid" and not self.paths.get("devices") and \
            bool(self.paths.get(""))

    # -- interface ------------------------------------------------------------
    def create(self) -> None:
        for sub, path in list(self.paths.items()):
            try:
                self._make_dirs(path)
                if sub == "cpuset":
                    self._fill_cpuset(path)
            except CgroupError as e:
                if self._ignorable(sub, e):
                    del self.paths[sub]
                    continue
                raise

    def _fill_cpuset(self, path: str) -> None:
        from runtime.cgroups import mounts
        from runtime.cgroups.v1 import cpuset

        mount = mounts.hierarchies().v1.get("cpuset")
        top = mount.mountpoint if mount else os.path.dirname(path)
        levels = []
        p = path
        while p != top and p.startswith(top + "/"):
            levels.append(p)
            p = os.path.dirname(p)
        for d in reversed(levels):
            cpuset.fill_from_parent(d)

    def joinable_paths(self) -> dict[str, str]:
        # Rootless: which joins may fail and be ignored is apply()'s to decide.
        return {} if self.rootless else dict(self.paths)

    def apply(self, pid: int, joined: Collection[str] = ()) -> None:
        if (self.resources.get("cpu") or {}) and "cpu" in self.paths:
            cpu = _v1("cpu")
            if cpu.rt_requested(self.resources):
                cpu.set_rt(self.paths["cpu"], self.resources)
        for sub, path in list(self.paths.items()):
            if joined_itself(sub, path, pid, joined):
                continue
            try:
                write_procs(path, pid)
            except CgroupError as e:
                # Device rules on the cgroup2 side only bind processes inside it.
                if sub == "" and self._devices_on_v2():
                    raise
                if self._ignorable(sub, e):
                    if sub not in _BEST_EFFORT:
                        del self.paths[sub]
                    continue
                raise

    def set(self, resources: dict, *, linux_devices: list | None = None) -> None:  # noqa: A003
        from runtime.cgroups import resources as res_mod  # only when limits are set

        res = res_mod.validate(resources, self.warnings)
        from runtime.cgroups.devices import rules_from_oci

        self._write(res, rules_from_oci(res.get("devices") or [], linux_devices))
        self._remember(res)

    def update(self, resources: dict) -> None:
        from runtime.cgroups import resources as res_mod

        new = res_mod.validate(resources, self.warnings)
        write, merged = res_mod.merge_update(self.resources, new)
        try:
            self._write(write, None)     # like runc, update never touches devices
        except CgroupError:
            self._set_back(lambda: self._write(self.resources, None))
            raise
        self._remember(merged)

    def _write(self, res: dict, rules: list | None) -> None:
        """Check everything first, then write controller by controller in runc's order."""
        steps = []
        enable: list[str] = []
        unified_path = self.paths.get("", "")
        available = None
        for sub in V1_SUBSYSTEMS:
            if sub == "devices":
                if rules is not None and not (self.rootless and not self.paths.get(sub)):
                    steps.append((sub, self.paths.get(sub, ""), "set_rules"))
                continue
            group = _RESOURCE_GROUP.get(sub)
            if group is None or group not in res:
                continue
            mod = _v1(sub)
            if not mod.requested(res):
                continue
            path = self.paths.get(sub)
            if path:
                steps.append((sub, path, mod))
                continue
            if available is None:
                available = self._unified_available()
            if _V2_NAME.get(sub) in available:
                enable.append(_V2_NAME[sub])
                steps.append((sub, unified_path, _v2(_V2_NAME[sub])))
                continue
            raise CgroupError(f"cannot set {sub} limit: container could not join or "
                              "create cgroup")
        unified = res.get("unified") or {}
        if unified:
            if self.mode != "hybrid" or not unified_path:
                raise CgroupError("invalid configuration: cannot use unified on cgroup v1")
            if available is None:
                available = self._unified_available()
            from runtime.cgroups.v2 import unified as unified_mod

            try:
                unified_mod.check(unified_path, unified, available)
            except CgroupError:     # a key only v1 has here: refused in runc's words
                raise CgroupError("invalid configuration: cannot use unified on cgroup v1") \
                    from None
            enable.extend(sorted(unified_mod.controllers_of(unified) & available))

        # Preflight: nothing is written if any of this fails.
        if rules is not None and self._devices_on_v2():
            from runtime.cgroups.v2 import devicefilter

            devicefilter.build(rules)
        for sub, path, mod in steps:
            if sub == "hugetlb":
                _check_page_sizes(res)
            check = getattr(mod, "check", None) if not isinstance(mod, str) else None
            if check is not None:
                check(path, res)

        if enable:
            from runtime.cgroups.v2.manager import enable_controllers

            enable_controllers(self.unified_mount, unified_path, enable)
        for _sub, path, mod in steps:
            if mod == "set_rules":
                if not path and self._devices_on_v2():
                    from runtime.cgroups.v2.manager import set_device_rules

                    set_device_rules(unified_path, rules, rootless=self.rootless,
                                     warnings=self.warnings)
                    continue
                if not path:
                    raise CgroupError("cannot set devices limit: container could not join "
                                      "or create cgroup")
                try:
                    _v1("devices").set_rules(path, rules)
                except CgroupError:
                    if not self.rootless:
                        raise
                continue
            mod.set(path, res)
        if unified:
            from runtime.cgroups.v2 import unified as unified_mod

            unified_mod.set(unified_path, unified)

    def _freezer(self) -> tuple[object, str]:
        path = self.paths.get("freezer")
        if path:
            return _v1("freezer"), path
        if self.paths.get(""):
            return _v2("freezer"), self.paths[""]
        raise CgroupError("cannot toggle freezer: cgroups not configured for container")

    def freeze(self) -> None:
        mod, path = self._freezer()
        mod.freeze(path)

    def thaw(self) -> None:
        mod, path = self._freezer()
        mod.thaw(path)

    def freezer_state(self) -> str:
        try:
            mod, path = self._freezer()
        except CgroupError:
            return ""
        return mod.state(path)

    def _main_path(self) -> str:
        for sub in ("devices", "memory", "pids", "freezer", "cpu"):
            if self.paths.get(sub):
                return self.paths[sub]
        return next(iter(self.paths.values()), "")

    def pids(self) -> list[int]:
        path = self._main_path()
        return all_pids(path) if path else []

    def exists(self) -> bool:
        path = self._main_path()
        return bool(path) and os.path.isdir(path)

    def stats(self) -> dict:
        from runtime.cgroups import stats as stats_mod

        st = stats_mod.new()
        available = None
        for sub in _STATS_ORDER:
            path = self.paths.get(sub)
            if path:
                _v1(sub).stats(path, st)
                continue
            # A controller only cgroup2 offers here: read the cgroup2 side.
            if sub in _V2_NAME and self.paths.get(""):
                if available is None:
                    available = self._unified_available()
                read_stats = getattr(_v2(_V2_NAME[sub]), "stats", None)
                if _V2_NAME[sub] in available and read_stats is not None:
                    read_stats(self.paths[""], st)
        return stats_mod.to_runc_json(st)

    def oom_kill_count(self) -> int:
        path = self.paths.get("memory")
        if not path:
            return 0
        try:
            return _v1("memory").oom_kill_count(path)
        except CgroupFileError as e:
            if self.rootless and e.errno == errno.ENOENT:
                return 0
            raise

    def oom_watcher(self):
        path = self.paths.get("memory")
        if not path:
            raise CgroupError("memory controller missing")
        return _v1("memory").OomWatcher(path)

    def destroy(self) -> None:
        leaves = [p for p in self.paths.values() if p]
        remove_paths(leaves)
        self._remove_created_parents(set(leaves))

    def to_state(self) -> dict:
        out = super().to_state()
        out["paths"] = dict(self.paths)
        out["unified_mount"] = self.unified_mount
        return out


def _check_page_sizes(res: dict) -> None:
    from runtime.cgroups import stats as stats_mod

    sizes = stats_mod.hugepage_sizes()
    for h in res.get("hugepageLimits") or []:
        if h["pageSize"] not in sizes:
            raise CgroupError(f"invalid hugepage size {q(h['pageSize'])} (this machine "
                              f"supports {', '.join(sizes) or 'none'})")
