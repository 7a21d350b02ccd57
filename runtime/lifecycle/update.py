"""update: change the resource limits of a live container (runc update semantics).

Zero or absent values leave a limit as it is; see runtime.cgroups.resources.
"""

from __future__ import annotations

from runtime.errors import PyruncError
from runtime.lifecycle.container import Container
from runtime.lifecycle.pause import cgroup_manager
from runtime.state.store import Store


def update(ctx, container_id: str, resources: dict) -> None:
    """Apply ``resources`` (OCI linux.resources shape), logging the manager's warnings."""
    import runtime.log as logmod

    store = Store(ctx.root)
    c = Container.load(store, container_id)
    with c.lock():
        c = Container.load(store, container_id)
        if c.status() == "stopped":
            raise PyruncError("container not running")
        mgr = cgroup_manager(c)
        try:
            mgr.update(resources)
        finally:
            for warning in mgr.warnings:
                logmod.log.warning(warning)
        c.state["cgroup"] = mgr.to_state()
        c.save()
