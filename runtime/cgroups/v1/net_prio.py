"""v1 net_prio controller: per-interface priorities of the container's traffic."""

from __future__ import annotations

from runtime.cgroups import files


def requested(res: dict) -> bool:
    return bool((res.get("network") or {}).get("priorities"))


def set(path: str, res: dict) -> None:  # noqa: A001
    for p in (res.get("network") or {}).get("priorities") or []:
        files.write(path, "net_prio.ifpriomap", f"{p['name']} {p['priority']}")
