"""Removing cgroup directories, sub-cgroups first."""

from __future__ import annotations

import errno
import os
import time

from runtime.cgroups import CgroupError


def _rmdir(path: str) -> int:
    try:
        os.rmdir(path)
        return 0
    except FileNotFoundError:
        return 0
    except OSError as e:
        return e.errno or errno.EIO


def remove_path(path: str) -> int:
    """rmdir a cgroup, its sub-cgroups first; returns 0 or the errno of the failure."""
    if _rmdir(path) == 0:
        return 0
    try:
        children = [e.path for e in os.scandir(path) if e.is_dir(follow_symlinks=False)]
    except FileNotFoundError:
        return 0
    except OSError as e:
        return e.errno or errno.EIO
    for child in children:
        err = remove_path(child)
        if err:
            return err
    return _rmdir(path)


def remove_paths(paths: list[str]) -> None:
    """Remove cgroup dirs, retrying briefly while the kernel still sees tasks (EBUSY)."""
    pending = [p for p in paths if p]
    delay = 0.01
    for attempt in range(6):
        if attempt:
            time.sleep(delay)
            delay *= 2
        failed = []
        for p in pending:
            err = remove_path(p)
            if err and os.path.isdir(p):
                failed.append((p, err))
        if not failed:
            return
        pending = [p for p, _ in failed]
    listing = ", ".join(f"{p} ({os.strerror(e).lower()})" for p, e in failed)
    raise CgroupError(f"failed to remove cgroup paths: {listing}")
