"""v1 net_cls controller: the class ID stamped on the container's packets."""

from __future__ import annotations

from runtime.cgroups import files


def requested(res: dict) -> bool:
    return bool((res.get("network") or {}).get("classID"))


def set(path: str, res: dict) -> None:  # noqa: A001
    class_id = (res.get("network") or {}).get("classID")
    if class_id:
        files.write(path, "net_cls.classid", str(class_id))
