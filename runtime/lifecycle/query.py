"""state and list: read-only views of the store."""

from __future__ import annotations

from runtime.errors import NotExistError
from runtime.lifecycle.container import Container
from runtime.state.store import Store


def state(ctx, container_id: str) -> dict:
    return Container.load(Store(ctx.root), container_id).oci_state()


def list_all(ctx) -> list[dict]:
    """Every container's state; its owner is the owner of its state directory, as in
    runc's list (`state` leaves it empty, as runc's does)."""
    store = Store(ctx.root)
    out = []
    for cid in store.ids():
        try:
            c = Container.load(store, cid)
            doc = c.oci_state()
            doc["owner"] = _owner(c.dir)
            out.append(doc)
        except (NotExistError, ValueError):
            continue  # being created or deleted right now
        except Exception:  # noqa: BLE001 - one broken entry must not hide the others
            continue
    return out


def _owner(path: str) -> str:
    import os
    import pwd

    uid = os.stat(path).st_uid
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return f"#{uid}"
