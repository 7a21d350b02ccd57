"""Lend v1 controllers to cgroup2 for a while, and always give them back.

A v1 hierarchy with no child cgroups is destroyed shortly after its last mount
goes, and its controllers move to the cgroup2 root; mounting the hierarchy
again (same options, same place) takes them back, which the kernel allows
once cgroup2 no longer uses them (no cgroup2 ``subtree_control`` enables them).

This is how the v2 tests get real pids and cpu controllers on a hybrid host.
The window must be short: the rest of the machine uses v1.  Before anything is
unmounted, what will be restored is written to RECORD, so a run killed in the
middle is repaired by the next one (or by ``python3 v1_release.py --restore``).
The memory hierarchy is never touched.

    lent = lend(["pids", "cpu"])     # raises NotLendable: the reason to skip
    try: ...
    finally: lent.give_back()        # raises if a hierarchy could not be restored
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

UNIFIED = "/sys/fs/cgroup/unified"
RECORD = "/run/pyrunc-test-v1-release.json"
NEVER = ("memory",)          # the machine's own services live there
V2_NAME = {"pids": "pids", "cpu": "cpu", "cpuset": "cpuset", "blkio": "io"}


class NotLendable(Exception):
    """The layout cannot be changed now; ``str()`` says why."""


def _mountinfo() -> list[dict]:
    out = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            head, _, tail = line.rstrip("\n").partition(" - ")
            fields, tail_fields = head.split(), tail.split()
            out.append({"dev": fields[2], "root": fields[3], "mountpoint": fields[4],
                        "opts": fields[5], "fstype": tail_fields[0], "source": tail_fields[1],
                        "super": tail_fields[2] if len(tail_fields) > 2 else ""})
    return out


def _controllers(super_opts: str) -> set[str]:
    return {o for o in super_opts.split(",") if o not in ("rw", "ro")}


def _v2_controllers() -> set[str]:
    with open(os.path.join(UNIFIED, "cgroup.controllers")) as f:
        return set(f.read().split())


def _children(mountpoint: str) -> list[str]:
    return sorted(e.name for e in os.scandir(mountpoint) if e.is_dir(follow_symlinks=False))


def _mount_args(m: dict) -> list[str]:
    # The mount's own options plus the controller list: what `mount` shows.
    opts = m["opts"].split(",") + sorted(_controllers(m["super"]))
    return ["mount", "-t", "cgroup", "-o", ",".join(opts), m["source"], m["mountpoint"]]


class Lent:
    def __init__(self, mounts: list[dict], root_subtree: set[str]) -> None:
        self.mounts = mounts              # mountinfo entries of the unmounted hierarchies
        self.root_subtree = root_subtree  # cgroup2 root subtree_control before lending
        self.given_back = False

    @property
    def v2_names(self) -> list[str]:
        return [V2_NAME[c] for m in self.mounts for c in sorted(_controllers(m["super"]))]

    def give_back(self, timeout: float = 60.0) -> None:
        if self.given_back:
            return
        _drop_from_root_subtree(set(self.v2_names) - self.root_subtree)
        failed = []
        for m in self.mounts:
            if not _remount(m, timeout):
                failed.append(m["mountpoint"])
        self.given_back = not failed
        if failed:
            blockers = _v2_users(self.v2_names)
            raise RuntimeError(f"could not mount {', '.join(failed)} again (cgroup2 still "
                               f"uses the controller: {blockers or 'unknown'}); "
                               f"run: python3 {__file__} --restore")
        try:
            os.unlink(RECORD)
        except FileNotFoundError:
            pass


def _drop_from_root_subtree(names: set[str]) -> None:
    """Take back from the cgroup2 root what was enabled there during the window."""
    path = os.path.join(UNIFIED, "cgroup.subtree_control")
    for name in sorted(names):
        with open(path) as f:
            if name not in f.read().split():
                continue
        try:
            with open(path, "w") as f:
                f.write("-" + name)
        except OSError:
            pass   # a descendant still enables it: the remount will say so


def _v2_users(names: list[str]) -> list[str]:
    """cgroup2 directories that enable one of ``names`` for their children."""
    users = []
    for root, dirs, _ in os.walk(UNIFIED):
        try:
            with open(os.path.join(root, "cgroup.subtree_control")) as f:
                enabled = set(f.read().split())
        except OSError:
            continue
        if enabled & set(names):
            users.append(root)
        dirs.sort()
    return users


def _is_mounted(m: dict) -> bool:
    return any(x["mountpoint"] == m["mountpoint"] and x["fstype"] == "cgroup"
               and _controllers(x["super"]) == _controllers(m["super"])
               for x in _mountinfo())


def _remount(m: dict, timeout: float) -> bool:
    end = time.monotonic() + timeout
    while True:
        if _is_mounted(m):
            return True
        p = subprocess.run(_mount_args(m), capture_output=True, text=True)
        if p.returncode == 0 and _is_mounted(m):
            return True
        if time.monotonic() > end:
            return False
        # EBUSY: cgroup2 still uses the controller (a cgroup being removed).
        _drop_from_root_subtree({V2_NAME[c] for c in _controllers(m["super"])})
        time.sleep(0.5)


def lend(controllers: list[str], wait: float = 5.0) -> Lent:
    """Unmount the v1 hierarchies of ``controllers``; returns once cgroup2 has them."""
    repair()
    if os.geteuid() != 0:
        raise NotLendable("needs root")
    if not os.path.isdir(UNIFIED) or not os.path.exists(UNIFIED + "/cgroup.controllers"):
        raise NotLendable(f"needs a hybrid host with cgroup2 at {UNIFIED}")
    info = _mountinfo()
    mounts = []
    for c in controllers:
        if c in NEVER or c not in V2_NAME:
            raise NotLendable(f"the {c} hierarchy is not to be lent")
        found = [m for m in info if m["fstype"] == "cgroup" and c in _controllers(m["super"])]
        if not found:
            raise NotLendable(f"no v1 {c} hierarchy is mounted")
        if len(found) > 1 or _controllers(found[0]["super"]) != {c}:
            raise NotLendable(f"the v1 {c} hierarchy is mounted twice or shared with other "
                              "controllers")
        kids = _children(found[0]["mountpoint"])
        if kids:
            raise NotLendable(f"the v1 {c} hierarchy is in use (child cgroups: "
                              f"{', '.join(kids[:5])})")
        mounts.append(found[0])
    with open(os.path.join(UNIFIED, "cgroup.subtree_control")) as f:
        lent = Lent(mounts, set(f.read().split()))
    with open(RECORD, "w") as f:
        json.dump({"mounts": mounts, "root_subtree": sorted(lent.root_subtree)}, f)
    try:
        for m in mounts:
            p = subprocess.run(["umount", m["mountpoint"]], capture_output=True, text=True)
            if p.returncode != 0:
                # e.g. "target is busy": a process has a file of the hierarchy open.
                raise NotLendable(f"umount {m['mountpoint']} failed: "
                                  f"{(p.stderr.strip() or 'exit status ' + str(p.returncode))}")
        end = time.monotonic() + wait
        while not set(lent.v2_names) <= _v2_controllers():
            if time.monotonic() > end:
                missing = sorted(set(lent.v2_names) - _v2_controllers())
                raise NotLendable(f"cgroup2 did not get {' '.join(missing)} within {wait:.0f} s "
                                  "(the v1 hierarchy is still alive: mounted elsewhere, or a "
                                  "child cgroup appeared)")
            time.sleep(0.05)
    except BaseException:
        lent.give_back()
        raise
    return lent


def repair() -> None:
    """Restore what a killed run left unmounted (RECORD written by :func:`lend`)."""
    try:
        with open(RECORD) as f:
            saved = json.load(f)
    except FileNotFoundError:
        return
    Lent(saved["mounts"], set(saved["root_subtree"])).give_back()


if __name__ == "__main__":
    if sys.argv[1:] != ["--restore"]:
        sys.exit(f"usage: {sys.argv[0]} --restore")
    repair()
    print("v1 layout restored" if not os.path.exists(RECORD) else "nothing restored")
