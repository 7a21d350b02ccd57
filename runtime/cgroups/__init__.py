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

Where pyrunc knowingly differs from runc 1.1's cgroupfs driver:

* hybrid hosts: limits for controllers that only cgroup2 offers (hugetlb, rdma)
  are set in the container's cgroup2 directory, enabling the controller down
  the path on demand (runc fails with "cannot set hugetlb limit"), and the
  ``unified`` map is accepted for keys whose controller cgroup2 offers there
  (runc refuses any ``unified`` on a v1/hybrid host);
* values are checked before anything is written (types, signs, cpu lists,
  CPUs/memory nodes the parent cannot give, huge page sizes, device access
  strings), so a refused ``set`` leaves the cgroup untouched;
* ``destroy`` also removes the parent directories ``create`` made, once empty;
* the CPU burst/idle and ``checkBeforeUpdate`` settings of runc 1.2 are honoured;
* device rules on cgroup2 are an eBPF program as in runc (v2/devicefilter.py,
  v2/devices.py), also on a hybrid host without a v1 devices hierarchy (runc
  1.1 requires one there);
* ``--systemd-cgroup``: a transient scope per container, as runc's systemd driver
  (systemd/, docs/systemd.md).
"""

from __future__ import annotations

from runtime.errors import PyruncError

# Joined when possible, as runc's named hierarchies: "" is the cgroup2 side of a
# hybrid host.
BEST_EFFORT = ("", "name=systemd")


class CgroupError(PyruncError):
    """A cgroup operation failed; ``str(err)`` is a one-line message for the user."""


def for_container(container_id: str, cgroups_path: str | None, *, systemd: bool = False,
                  rootless: bool = False, annotations: dict | None = None):
    """Return the Manager for a new container (nothing is created yet); ``annotations``
    only matter to the systemd driver (org.systemd.property.*)."""
    from runtime.cgroups.manager import for_container as _for_container

    return _for_container(container_id, cgroups_path, systemd=systemd, rootless=rootless,
                          annotations=annotations)


def from_state(saved: dict):
    """Rebuild the Manager of an existing container from ``Manager.to_state()``."""
    from runtime.cgroups.manager import from_state as _from_state

    return _from_state(saved)


__all__ = ["CgroupError", "for_container", "from_state"]
