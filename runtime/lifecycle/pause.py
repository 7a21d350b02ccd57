"""pause: freeze every process of the container (running or created)."""

from __future__ import annotations

from runtime.errors import PyruncError
from runtime.lifecycle.container import Container
from runtime.state.store import Store


def cgroup_manager(c: Container):
    """The container's cgroup Manager, or a clear error if it has none."""
    cg = c.state.get("cgroup")
    if not cg:
        raise PyruncError("cannot toggle freezer: cgroups not configured for container")
    from runtime.cgroups import from_state

    return from_state(cg)


def pause(ctx, container_id: str) -> None:
    store = Store(ctx.root)
    c = Container.load(store, container_id)
    with c.lock():
        c = Container.load(store, container_id)
        if c.status() not in ("running", "created"):
            raise PyruncError("container not running")
        cgroup_manager(c).freeze()
