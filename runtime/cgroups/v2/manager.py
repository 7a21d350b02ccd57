"""Manager for a pure cgroup v2 layout (runc's "fs2" driver): one directory.

Device rules become an eBPF program attached to the directory (v2/devices.py).
"""

from __future__ import annotations

import errno
import os

from runtime.cgroups import CgroupError, files
from runtime.cgroups import resources as res_mod
from runtime.cgroups import stats as stats_mod
from runtime.cgroups.files import CgroupFileError, q
from runtime.cgroups.interface import Manager, all_pids, joined_itself, remove_paths, write_procs

TYPE_CHECKING = False  # typing costs ~7 ms of imports
if TYPE_CHECKING:
    from collections.abc import Collection

# runc's fs2 Set order.
_SET_ORDER = (("pids", "pids"), ("memory", "memory"), ("io", "blockIO"), ("cpu", "cpu"),
              ("cpuset", "cpu"), ("hugetlb", "hugepageLimits"), ("rdma", "rdma"))
_DOMAIN = ("memory", "io", "cpu", "hugetlb")


def _mod(name: str):
    return __import__(f"runtime.cgroups.v2.{name}", fromlist=["_"])


def _levels(mount: str, leaf: str) -> list[str]:
    """Directories from the mount point down to ``leaf`` (inclusive)."""
    rel = os.path.relpath(leaf, mount)
    if rel.startswith(".."):
        raise CgroupError(f"invalid cgroup path {leaf} (not below {mount})")
    out = [mount]
    if rel != ".":
        for part in rel.split("/"):
            out.append(os.path.join(out[-1], part))
    return out


def enable_controllers(mount: str, leaf: str, controllers: list[str]) -> None:
    """Make ``controllers`` available in ``leaf`` by enabling them in each ancestor."""
    for d in _levels(mount, leaf)[:-1]:
        enabled = files.read(d, "cgroup.subtree_control").split()
        missing = [c for c in dict.fromkeys(controllers) if c not in enabled]
        if not missing:
            continue
        try:
            files.write(d, "cgroup.subtree_control", " ".join("+" + c for c in missing))
        except CgroupError as e:
            raise CgroupError(f"cannot enable the {' '.join(missing)} controller(s) in {d}: "
                              f"{e}") from None


def set_device_rules(path: str, rules: list, *, rootless: bool, warnings: list[str]) -> None:
    """Attach the device program; rootless, the kernel may refuse it (a warning, as runc)."""
    from runtime.cgroups.v2 import devices

    try:
        devices.set_rules(path, rules)
    except devices.BpfError as e:
        if not rootless or e.errno not in (errno.EPERM, errno.EACCES):
            raise
        warnings.append(f"device rules are not enforced: {e}")


class V2Manager(Manager):
    mode = "unified"

    def __init__(self, path: str, *, mount: str = "/sys/fs/cgroup", **kw) -> None:
        super().__init__(**kw)
        self.path = path
        self.mount = mount
        self.paths = {"": path}

    def _available(self) -> set[str]:
        try:
            return set(files.read(self.mount, "cgroup.controllers").split())
        except CgroupError:
            return set()

    def _without_cgroup(self) -> bool:
        """runc's fs2 rule: a rootless container without a cgroupsPath goes without the
        cgroup it was not allowed to make (runc: limits then fail)."""
        return self.rootless and not self.cgroups_path and not os.path.isdir(self.path)

    def create(self) -> None:
        try:
            self._create()
        except CgroupFileError as e:
            if not (self.rootless and not self.cgroups_path
                    and e.errno in (errno.EPERM, errno.EACCES, errno.EROFS)):
                raise

    def _create(self) -> None:
        levels = _levels(self.mount, self.path)
        if len(levels) < 2:
            raise CgroupError(f"invalid cgroup path {self.path}: the root cgroup cannot "
                              "hold a container")
        wanted = " ".join("+" + c for c in sorted(self._available()))
        for i, d in enumerate(levels):
            if i:
                self._make_dirs(d)
                self._check_type(d)
            if i < len(levels) - 1 and wanted:
                # Like runc: offer every controller to the container; some may refuse.
                try:
                    files.write(d, "cgroup.subtree_control", wanted)
                except CgroupError:
                    for c in wanted.split():
                        try:
                            files.write(d, "cgroup.subtree_control", c)
                        except CgroupError:
                            pass

    def _check_type(self, d: str) -> None:
        try:
            kind = files.read(d, "cgroup.type").strip()
        except CgroupError:
            return
        domain = any(_mod(name).requested(self.resources) for name in _DOMAIN
                     if self.resources)
        if kind == "domain invalid":
            if domain:
                raise CgroupError(f"cannot enter cgroupv2 {q(d)} with domain controllers -- "
                                  "it is in an invalid state")
            files.write(d, "cgroup.type", "threaded")
        elif kind in ("domain threaded", "threaded") and domain:
            raise CgroupError(f"cannot enter cgroupv2 {q(d)} with domain controllers -- it is "
                              f"in {kind} mode")

    def joinable_paths(self) -> dict[str, str]:
        return {} if self.rootless else {"": self.path}

    def apply(self, pid: int, joined: Collection[str] = ()) -> None:
        if self._without_cgroup():
            return
        if not joined_itself("", self.path, pid, joined):
            write_procs(self.path, pid)

    def set(self, resources: dict, *, linux_devices: list | None = None) -> None:  # noqa: A003
        res = res_mod.validate(resources, self.warnings)
        from runtime.cgroups.devices import rules_from_oci

        rules = rules_from_oci(res.get("devices") or [], linux_devices)
        from runtime.cgroups.v2 import devicefilter

        devicefilter.build(rules)   # refuse bad rules before anything is written
        if self._without_cgroup():
            if any(_mod(name).requested(res) for name, group in _SET_ORDER if group in res):
                raise CgroupError("rootless needs no limits + no cgrouppath when no permission "
                                  f"is granted for cgroups: mkdir {self.path}: permission denied")
            return
        self._write(res)
        set_device_rules(self.path, rules, rootless=self.rootless, warnings=self.warnings)
        self._remember(res)

    def update(self, resources: dict) -> None:
        new = res_mod.validate(resources, self.warnings)
        write, merged = res_mod.merge_update(self.resources, new)
        try:
            self._write(write)
        except CgroupError:
            self._set_back(lambda: self._write(self.resources))
            raise
        self._remember(merged)

    def _write(self, res: dict) -> None:
        try:
            present = set(files.read(self.path, "cgroup.controllers").split())
        except CgroupFileError as e:
            raise CgroupError(f"cannot read the controllers of {self.path}: {e}") from None
        steps = []
        for name, group in _SET_ORDER:
            if group not in res:
                continue
            mod = _mod(name)
            check = getattr(mod, "check", None)
            if check is not None:
                check(self.path, res)
            if not mod.requested(res):
                continue
            if name not in present:
                raise CgroupError(f"cannot set {name} limit: the {name} controller is not "
                                  f"available in {self.path}")
            steps.append(mod)
        if res.get("hugepageLimits"):
            from runtime.cgroups.v1.manager import _check_page_sizes

            _check_page_sizes(res)
        unified = res.get("unified") or {}
        if unified:
            from runtime.cgroups.v2 import unified as unified_mod

            unified_mod.check(self.path, unified, present)
        for mod in steps:
            mod.set(self.path, res)
        if unified:
            unified_mod.set(self.path, unified)

    def freeze(self) -> None:
        _mod("freezer").freeze(self.path)

    def thaw(self) -> None:
        _mod("freezer").thaw(self.path)

    def freezer_state(self) -> str:
        return _mod("freezer").state(self.path)

    def pids(self) -> list[int]:
        return all_pids(self.path)

    def exists(self) -> bool:
        return os.path.isdir(self.path)

    def stats(self) -> dict:
        st = stats_mod.new()
        for name in ("pids", "memory", "io", "cpu", "hugetlb", "rdma"):
            _mod(name).stats(self.path, st)
        return stats_mod.to_runc_json(st)

    def oom_kill_count(self) -> int:
        try:
            return _mod("memory").oom_kill_count(self.path)
        except CgroupFileError:
            if self.rootless:
                return 0
            raise

    def oom_watcher(self):
        return _mod("memory").OomWatcher(self.path)

    def kill_all(self) -> None:
        """SIGKILL every process below the cgroup at once (cgroup.kill, Linux 5.14+)."""
        files.write(self.path, "cgroup.kill", "1")

    def destroy(self) -> None:
        remove_paths([self.path])
        self._remove_created_parents({self.path})

    def to_state(self) -> dict:
        out = super().to_state()
        out["path"] = self.path
        out["mount"] = self.mount
        return out
