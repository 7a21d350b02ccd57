"""resume: thaw a paused container."""

from __future__ import annotations

from runtime.errors import PyruncError
from runtime.lifecycle.container import Container
from runtime.lifecycle.pause import cgroup_manager
from runtime.state.store import Store


def resume(ctx, container_id: str) -> None:
    store = Store(ctx.root)
    c = Container.load(store, container_id)
    with c.lock():
        c = Container.load(store, container_id)
        if c.status() != "paused":
            raise PyruncError("container not paused")
        cgroup_manager(c).thaw()
