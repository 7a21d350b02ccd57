"""Finding a process's cgroup directories (v1, v2 or hybrid), removing our own cgroups,
and a private view of a hybrid host without its cgroup2 mount."""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from conformance import procfs


@dataclass(frozen=True)
class Hierarchy:
    mountpoint: Path
    version: int  # 1 or 2
    controllers: frozenset[str]  # v1: mount options naming controllers; v2: cgroup.controllers


def hierarchies() -> list[Hierarchy]:
    found: list[Hierarchy] = []
    seen: set[str] = set()
    for mount in procfs.mountinfo("self"):
        if mount.fstype not in ("cgroup", "cgroup2") or mount.mountpoint in seen:
            continue
        seen.add(mount.mountpoint)
        if mount.fstype == "cgroup2":
            try:
                text = Path(mount.mountpoint, "cgroup.controllers").read_text()
            except OSError:
                text = ""
            found.append(Hierarchy(Path(mount.mountpoint), 2, frozenset(text.split())))
        else:
            names = {o for o in mount.super_options if o not in ("rw", "ro")}
            found.append(Hierarchy(Path(mount.mountpoint), 1, frozenset(names)))
    return found


def layout() -> str:
    """'v1', 'v2', 'hybrid' or 'none'."""
    versions = {h.version for h in hierarchies()}
    if versions == {2}:
        return "v2"
    if versions == {1, 2}:
        return "hybrid"
    return "v1" if versions == {1} else "none"


def process_paths(pid: int | str) -> dict[str, str]:
    """Cgroup path of ``pid`` per v1 controller name, with key '' for the v2 hierarchy."""
    paths: dict[str, str] = {}
    for line in (procfs.proc(pid) / "cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        if not controllers:
            paths[""] = path
        for name in controllers.split(","):
            if name:
                paths[name] = path
    return paths


def controller_dir(pid: int | str, controller: str) -> tuple[Path, int] | None:
    """Directory of ``pid``'s cgroup that holds ``controller``'s files, and its version."""
    paths = process_paths(pid)
    for h in hierarchies():
        if h.version == 1 and controller in h.controllers and controller in paths:
            return h.mountpoint / paths[controller].lstrip("/"), 1
    for h in hierarchies():
        if h.version == 2 and controller in h.controllers and "" in paths:
            return h.mountpoint / paths[""].lstrip("/"), 2
    return None


def read(path: Path) -> str:
    return path.read_text().strip()


def remove_tree(parent: str, timeout: float = 5.0) -> list[str]:
    """Remove cgroup ``parent`` (e.g. '/pyrunc-conformance-1a2b') and below in every hierarchy.

    Processes still inside are ours (containers a runtime left behind): they are killed first.
    Returns the directories that could not be removed.
    """
    left: list[str] = []
    for h in hierarchies():
        top = h.mountpoint / parent.lstrip("/")
        if not top.is_dir():
            continue
        dirs = sorted((Path(d) for d, _, _ in os.walk(top)), key=lambda p: -len(p.parts))
        for d in dirs:
            if not _rmdir_cgroup(d, timeout):
                left.append(str(d))
    return left


def _rmdir_cgroup(path: Path, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while True:
        try:
            path.rmdir()
            return True
        except FileNotFoundError:
            return True
        except OSError:
            if time.monotonic() > deadline:
                return False
        _kill_members(path)
        time.sleep(0.05)


def _kill_members(path: Path) -> None:
    try:
        pids = path.joinpath("cgroup.procs").read_text().split()
    except OSError:
        return
    for pid in pids:
        try:
            os.kill(int(pid), signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    freezer = path / "freezer.state"
    if freezer.exists():  # a frozen cgroup never lets its killed members die
        try:
            freezer.write_text("THAWED")
        except OSError:
            pass


def root_subtree() -> dict[Path, set[str]]:
    """The controllers each cgroup2 root offers its children (cgroup.subtree_control)."""
    out: dict[Path, set[str]] = {}
    for h in hierarchies():
        if h.version == 2:
            try:
                out[h.mountpoint] = set(read(h.mountpoint / "cgroup.subtree_control").split())
            except OSError:
                pass
    return out


def restore_root_subtree(before: dict[Path, set[str]]) -> None:
    """Disable in each cgroup2 root what the run enabled there.  A runtime under test may
    enable controllers up to the root (runc does on cgroup2; pyrunc for hugetlb limits on
    hybrid hosts): the root is the host's, so it is put back.  Best effort: a controller
    another cgroup below still uses stays."""
    for root, now in root_subtree().items():
        for controller in sorted(now - before.get(root, now)):
            try:
                (root / "cgroup.subtree_control").write_text(f"-{controller}")
            except OSError:
                pass


UNIFIED = "/sys/fs/cgroup/unified"


def hide_cgroup2() -> None:
    """Enter a private mount namespace without the hybrid host's cgroup2 mount.  A tmpfs
    takes its place, so that a runtime writing there does not reach the host's
    /sys/fs/cgroup tmpfs.  Before any thread starts (unshare refuses threaded callers)."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(0x00020000) != 0:  # CLONE_NEWNS
        err = ctypes.get_errno()
        raise OSError(err, f"unshare(CLONE_NEWNS): {os.strerror(err)}")
    cmds = [["mount", "--make-rprivate", "/"]]
    if os.path.ismount(UNIFIED):
        cmds += [["umount", UNIFIED],
                 ["mount", "-t", "tmpfs", "-o", "size=16m,mode=755", "scratch", UNIFIED]]
    for cmd in cmds:
        p = subprocess.run(cmd, capture_output=True, text=True)
        if p.returncode != 0:
            raise OSError(f"{' '.join(cmd)}: {p.stderr.strip()}")
