"""Steps the runtime applies to the container process from outside, at sync points:
id mappings and time offsets (at "cgroups", before the process goes on), rlimits
and oom_score_adj, as runc's parent process does."""

from __future__ import annotations

import errno
import os

from runtime.errors import PyruncError

# The names runc accepts (runc's rlimitMap); the numbers come from the headers.
RLIMIT_NAMES = (
    "RLIMIT_CPU", "RLIMIT_FSIZE", "RLIMIT_DATA", "RLIMIT_STACK", "RLIMIT_CORE", "RLIMIT_RSS",
    "RLIMIT_NPROC", "RLIMIT_NOFILE", "RLIMIT_MEMLOCK", "RLIMIT_AS", "RLIMIT_LOCKS",
    "RLIMIT_SIGPENDING", "RLIMIT_MSGQUEUE", "RLIMIT_NICE", "RLIMIT_RTPRIO", "RLIMIT_RTTIME",
)
_U64_MAX = 2**64 - 1
# Lines the kernel accepts in uid_map/gid_map (since Linux 4.15).
_MAX_MAP_LINES = 340
TIME_CLOCKS = ("monotonic", "boottime")


def _write(path: str, data: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CLOEXEC)
    try:
        os.write(fd, data.encode())
    finally:
        os.close(fd)


# -- user namespace ---------------------------------------------------------
def check_id_mappings(linux: dict) -> None:
    """Refuse what the kernel would refuse in uid_map/gid_map, with a clearer message."""
    for key in ("uidMappings", "gidMappings"):
        maps = linux.get(key) or []
        if len(maps) > _MAX_MAP_LINES:
            raise PyruncError(f"{key}: {len(maps)} ranges, the kernel accepts at most "
                              f"{_MAX_MAP_LINES}")
        for m in maps:
            if int(m.get("size", 0)) <= 0:
                raise PyruncError(f"{key}: range {_fmt(m)} has no size")
            for field in ("containerID", "hostID"):
                if int(m.get(field, 0)) + int(m["size"]) > 2**32 - 1:
                    raise PyruncError(f"{key}: range {_fmt(m)} goes beyond the last id")
        for field, what in (("containerID", "container"), ("hostID", "host")):
            ranges = sorted(maps, key=lambda m: int(m[field]))
            widest = None  # the range seen so far that reaches furthest
            for m in ranges:
                if widest is not None and int(m[field]) < _end(widest, field):
                    raise PyruncError(f"{key}: ranges {_fmt(widest)} and {_fmt(m)} overlap in "
                                      f"{what} ids")
                if widest is None or _end(m, field) > _end(widest, field):
                    widest = m


def _end(m: dict, field: str) -> int:
    return int(m[field]) + int(m["size"])


def _fmt(m: dict) -> str:
    return f"{m.get('containerID')}:{m.get('hostID')}:{m.get('size')}"


def write_id_mappings(pid: int, linux: dict) -> None:
    """/proc/<pid>/uid_map and gid_map.  Unprivileged, as runc: a gid map of just the
    caller's own gid needs setgroups denied first (the kernel's rule since 3.19), and
    a map the kernel refuses to an unprivileged writer goes through the setuid
    newuidmap/newgidmap (Debian's uidmap), which allow the ranges that /etc/subuid
    and /etc/subgid give the user and nothing more."""
    unprivileged = os.geteuid() != 0
    if unprivileged and own_gid_only(linux):
        try:
            _write(f"/proc/{pid}/setgroups", "deny")
        except OSError as e:
            raise PyruncError(f"write setgroups for the user namespace: {e.strerror}") from None
    for key, name in (("uidMappings", "uid_map"), ("gidMappings", "gid_map")):
        maps = linux.get(key) or []
        if not maps:
            continue
        text = "".join(f"{m['containerID']} {m['hostID']} {m['size']}\n" for m in maps)
        try:
            _write(f"/proc/{pid}/{name}", text)
        except OSError as e:
            if not (unprivileged and e.errno == errno.EPERM):
                raise PyruncError(f"write {name} for the user namespace: {e.strerror}") from None
            _mapping_tool(pid, name, maps)


def own_gid_only(linux: dict) -> bool:
    """runc's test for an unprivileged caller: the gid map is the caller's gid alone
    (setgroups is then denied, and the container gets no supplementary groups)."""
    maps = linux.get("gidMappings") or []
    return (len(maps) == 1 and maps[0].get("containerID") == 0
            and maps[0].get("hostID") == os.getegid() and maps[0].get("size") == 1)


def _mapping_tool(pid: int, name: str, maps: list[dict]) -> None:
    import shutil
    import subprocess

    tool = "newuidmap" if name == "uid_map" else "newgidmap"
    path = shutil.which(tool)
    if path is None:
        raise PyruncError(f"write {name} for the user namespace: Operation not permitted "
                          f"(and {tool} is not installed: Debian's uidmap package)")
    argv = [path, str(pid)]
    for m in maps:
        argv += [str(m["containerID"]), str(m["hostID"]), str(m["size"])]
    p = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, env={}, close_fds=True)
    if p.returncode != 0:
        why = p.stderr.decode(errors="replace").strip().splitlines()
        raise PyruncError(f"{tool} {' '.join(argv[1:])}: "
                          f"{why[-1] if why else f'exit status {p.returncode}'}")


# -- time namespace -----------------------------------------------------------
def check_time_offsets(offsets: dict) -> None:
    for clock in offsets:
        if clock not in TIME_CLOCKS:
            raise PyruncError(f"timeOffsets: unknown clock {clock!r} (known: "
                              f"{', '.join(TIME_CLOCKS)})")


def write_time_offsets(pid: int, offsets: dict) -> None:
    """Offsets of the time namespace the process's children (and its next execve)
    will be in; only possible before any process has entered it."""
    text = "".join(f"{clock} {int(o.get('secs', 0))} {int(o.get('nanosecs', 0))}\n"
                   for clock, o in offsets.items())
    if not text:
        return
    try:
        _write(f"/proc/{pid}/timens_offsets", text)
    except OSError as e:
        raise PyruncError(f"failed to update /proc/{pid}/timens_offsets: {e.strerror}") from None


# -- rlimits and oom_score_adj ----------------------------------------------------------
def check_rlimits(process: dict) -> list[tuple[int, int, int, str]]:
    """Validate process.rlimits; returns (resource, soft, hard, name)."""
    from runtime.native import lib

    out = []
    seen: set[str] = set()
    for rl in process.get("rlimits") or []:
        kind = rl.get("type", "")
        if kind not in RLIMIT_NAMES:
            raise PyruncError(f"wrong rlimit value: {kind}")
        if kind in seen:  # the spec's MUST (runc 1.1 sets both, the last one wins)
            raise PyruncError(f"duplicate rlimit type {kind}")
        seen.add(kind)
        soft, hard = int(rl.get("soft", 0)), int(rl.get("hard", 0))
        if soft > hard:
            raise PyruncError(f"rlimit {kind}: soft limit {soft} is above the hard limit {hard}")
        out.append((getattr(lib, kind), soft, hard, kind))
    return out


def set_rlimits(pid: int, limits: list[tuple[int, int, int, str]]) -> None:
    """prlimit() each limit on the process: from outside, because once in a user
    namespace the process could no longer raise its own hard limits."""
    from runtime.native import lib

    for res, soft, hard, name in limits:
        # Beyond 64 bits is unlimited (RLIM_INFINITY is all ones), as in runc.
        r = lib.pyrunc_prlimit(pid, res, min(soft, _U64_MAX), min(hard, _U64_MAX))
        if r < 0:
            raise PyruncError(f"error setting rlimit type {name}: {os.strerror(-r)}")


def set_oom_score_adj(pid: int, value: int) -> None:
    try:
        _write(f"/proc/{pid}/oom_score_adj", str(value))
    except OSError as e:
        raise PyruncError(f"set oom_score_adj to {value}: {e.strerror}") from None
