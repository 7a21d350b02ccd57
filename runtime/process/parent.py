"""Steps the runtime applies to the container process from outside, at sync points:
id mappings, rlimits and oom_score_adj (as runc's parent process does)."""

from __future__ import annotations

import os

from runtime.errors import PyruncError


def _write(path: str, data: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CLOEXEC)
    try:
        os.write(fd, data.encode())
    finally:
        os.close(fd)


def write_id_mappings(pid: int, linux: dict) -> None:
    for key, name in (("uidMappings", "uid_map"), ("gidMappings", "gid_map")):
        maps = linux.get(key) or []
        if not maps:
            continue
        text = "".join(f"{m['containerID']} {m['hostID']} {m['size']}\n" for m in maps)
        try:
            _write(f"/proc/{pid}/{name}", text)
        except OSError as e:
            raise PyruncError(f"write {name} for the user namespace: {e.strerror}") from None


def check_rlimits(process: dict) -> list[tuple[int, int, int]]:
    """Validate process.rlimits; returns (resource, soft, hard) triples."""
    import resource

    out = []
    for rl in process.get("rlimits") or []:
        kind = rl.get("type", "")
        res = getattr(resource, kind, None) if kind.startswith("RLIMIT_") else None
        if not isinstance(res, int):
            raise PyruncError(f"invalid rlimit type {kind!r}")
        soft, hard = int(rl.get("soft", 0)), int(rl.get("hard", 0))
        if soft > hard:
            raise PyruncError(f"rlimit {kind}: soft limit {soft} is above the hard limit {hard}")
        out.append((res, soft, hard))
    return out


def set_rlimits(pid: int, limits: list[tuple[int, int, int]], names: list[str]) -> None:
    import resource

    for (res, soft, hard), name in zip(limits, names, strict=True):
        inf = resource.RLIM_INFINITY
        soft = inf if soft >= 2**64 - 1 else soft
        hard = inf if hard >= 2**64 - 1 else hard
        try:
            resource.prlimit(pid, res, (soft, hard))
        except (OSError, ValueError) as e:
            msg = e.strerror if isinstance(e, OSError) else str(e)
            raise PyruncError(f"error setting rlimit type {name}: {msg}") from None


def set_oom_score_adj(pid: int, value: int) -> None:
    try:
        _write(f"/proc/{pid}/oom_score_adj", str(value))
    except OSError as e:
        raise PyruncError(f"set oom_score_adj to {value}: {e.strerror}") from None
