"""v1 freezer controller: freeze, thaw and report the state."""

from __future__ import annotations

import errno
import time

from runtime.cgroups import CgroupError, files
from runtime.cgroups.files import CgroupFileError, q


def freeze(path: str) -> None:
    try:
        # A task forking or in an uninterruptible sleep can keep the cgroup in
        # FREEZING; like runc, poll, and thaw and retry now and then.
        for i in range(1000):
            if i % 50 == 49:
                files.write(path, "freezer.state", "THAWED")
                time.sleep(0.01)
            files.write(path, "freezer.state", "FROZEN")
            if i % 25 == 24:
                time.sleep(0.00001)
            state = files.read(path, "freezer.state").strip()
            if state == "FROZEN":
                return
            if state != "FREEZING":
                raise CgroupError(f"unexpected state {state} while freezing")
        raise CgroupError("unable to freeze")
    except CgroupError:
        try:
            files.write(path, "freezer.state", "THAWED")
        except CgroupError:
            pass
        raise


def thaw(path: str) -> None:
    files.write(path, "freezer.state", "THAWED")


def state(path: str) -> str:
    """"FROZEN", "THAWED" or "" (no freezer); frozen only by an ancestor counts as thawed."""
    while True:
        try:
            text = files.read(path, "freezer.state").strip()
        except CgroupFileError as e:
            if e.errno in (errno.ENOENT, errno.ENODEV):
                return ""
            raise
        if text == "THAWED":
            return "THAWED"
        if text == "FROZEN":
            try:
                self_freezing = files.read(path, "freezer.self_freezing").strip()
            except CgroupFileError as e:
                if e.errno in (errno.ENOENT, errno.ENODEV):
                    return "FROZEN"
                raise
            return "FROZEN" if self_freezing == "1" else "THAWED"
        if text == "FREEZING":
            time.sleep(0.001)
            continue
        raise CgroupError(f"unknown freezer.state {q(text)}")
