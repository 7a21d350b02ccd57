"""The container's own session keyring, as runc: `_ses.<id>`, unless --no-new-keyring.

The init creates it and makes it searchable so that `exec`ed processes, which
join it by name, can; a kernel without keyrings (ENOSYS) is no error.
"""

from __future__ import annotations

from runtime.native import lib
from runtime.native.plan import Plan


def name(container_id: str) -> str:
    return f"_ses.{container_id}"


def add_init(plan: Plan, container_id: str, userns: bool) -> None:
    # In a user namespace the keyring's uid is not the container's: let others search.
    flags = (lib.PYRUNC_KEYRING_SEARCH_BY_OTHERS if userns
             else lib.PYRUNC_KEYRING_SEARCH_BY_UID)
    plan.add(lib.OP_JOIN_KEYRING, f"join the session keyring {name(container_id)}",
             s=(name(container_id),), flags=flags)


def add_exec(plan: Plan, container_id: str) -> None:
    plan.add(lib.OP_JOIN_KEYRING, f"join the session keyring {name(container_id)}",
             s=(name(container_id),))
