"""The boundary for ``--systemd-cgroup``.

With that flag runc asks systemd (over D-Bus) to create a transient scope for
the container.  pyrunc does not talk to systemd: it checks the path format and
whether systemd runs, and gives runc's errors.  Were systemd running, the
request is refused with a clear message rather than silently falling back to
cgroupfs (which would put the container somewhere the caller does not expect).
"""

from __future__ import annotations

import os

from runtime.cgroups import CgroupError


def is_running_systemd() -> bool:
    """Same test as systemd's sd_booted() and runc: /run/systemd/system is a directory."""
    return os.path.isdir("/run/systemd/system")


def parse_path(cgroups_path: str | None) -> tuple[str, str, str]:
    """Split "slice:prefix:name"; an empty path gives runc's defaults."""
    if not cgroups_path:
        return ("", "runc", "")
    parts = cgroups_path.split(":")
    if len(parts) != 3:
        raise CgroupError('expected cgroupsPath to be of format "slice:prefix:name" for '
                          f'systemd cgroups, got "{cgroups_path}" instead')
    return parts[0], parts[1], parts[2]


def systemd_manager(container_id: str, cgroups_path: str | None, *, rootless: bool = False):
    parse_path(cgroups_path)
    if not is_running_systemd():
        raise CgroupError("systemd not running on this host, cannot use systemd cgroups "
                          "manager")
    raise CgroupError("the systemd cgroup driver is not supported by pyrunc; "
                      "run without --systemd-cgroup")
