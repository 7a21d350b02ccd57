"""v2 freezer (cgroup.freeze, part of every cgroup2 directory)."""

from __future__ import annotations

import errno
import time

from runtime.cgroups import CgroupError, files
from runtime.cgroups.files import CgroupFileError, q


def _wait_frozen(path: str) -> None:
    # cgroup.freeze says what was asked; cgroup.events says when it happened.
    for _ in range(1000):
        events = files.read_keyed(path, "cgroup.events")
        if events.get("frozen") == 1:
            return
        time.sleep(0.01)
    raise CgroupError("timeout of 10s reached waiting for the cgroup to freeze")


def freeze(path: str) -> None:
    try:
        files.write(path, "cgroup.freeze", "1")
    except CgroupFileError as e:
        if e.errno == errno.ENOENT:
            raise CgroupError(f"freezer not supported: {e}") from None
        raise
    _wait_frozen(path)


def thaw(path: str) -> None:
    try:
        files.write(path, "cgroup.freeze", "0")
    except CgroupFileError as e:
        if e.errno != errno.ENOENT:
            raise


def state(path: str) -> str:
    try:
        text = files.read(path, "cgroup.freeze").strip()
    except CgroupFileError as e:
        if e.errno in (errno.ENOENT, errno.ENODEV):
            return ""
        raise
    if text == "0":
        return "THAWED"
    if text == "1":
        _wait_frozen(path)
        return "FROZEN"
    raise CgroupError(f'unknown "cgroup.freeze" state: {q(text)}')
