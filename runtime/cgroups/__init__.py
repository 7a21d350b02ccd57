"""Cgroup management for pyrunc, modelled on runc's cgroupfs driver.

This package is imported on every ``pyrunc create``, so it stays cheap: the
manager and the per-controller modules are only imported when used.

Public API::

    mgr = for_container(container_id, cgroups_path, systemd=False, rootless=False)
    mgr.create(); mgr.set(resources); mgr.apply(pid)
    ...
    saved = mgr.to_state()          # JSON-able, kept in state.json
    mgr = from_state(saved)

Every failure is raised as :class:`CgroupError` carrying one clear line.
"""

from __future__ import annotations

from runtime.errors import PyruncError


class CgroupError(PyruncError):
    """A cgroup operation failed; ``str(err)`` is a one-line message for the user."""


def for_container(container_id: str, cgroups_path: str | None, *, systemd: bool = False,
                  rootless: bool = False):
    """Return the Manager for a new container (nothing is created yet)."""
    from runtime.cgroups.manager import for_container as _for_container

    return _for_container(container_id, cgroups_path, systemd=systemd, rootless=rootless)


def from_state(saved: dict):
    """Rebuild the Manager of an existing container from ``Manager.to_state()``."""
    from runtime.cgroups.manager import from_state as _from_state

    return _from_state(saved)


__all__ = ["CgroupError", "for_container", "from_state"]
