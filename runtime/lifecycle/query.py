"""state and list: read-only views of the store."""

from __future__ import annotations

from runtime.errors import NotExistError
from runtime.lifecycle.container import Container
from runtime.state.store import Store


def state(ctx, container_id: str) -> dict:
    return Container.load(Store(ctx.root), container_id).oci_state()


def list_all(ctx) -> list[dict]:
    store = Store(ctx.root)
    out = []
    for cid in store.ids():
        try:
            out.append(Container.load(store, cid).oci_state())
        except (NotExistError, ValueError):
            continue  # being created or deleted right now
        except Exception:  # noqa: BLE001 - one broken entry must not hide the others
            continue
    return out
