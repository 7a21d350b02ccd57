"""Discover the cgroup hierarchies of this process from /proc/self/mountinfo.

Three layouts exist: v1 only (one mount per controller group), unified (one
cgroup2 mount at /sys/fs/cgroup) and hybrid (v1 controllers plus a cgroup2 mount,
usually /sys/fs/cgroup/unified, holding whatever controllers v1 does not use).
"""

from __future__ import annotations

DEFAULT_ROOT = "/sys/fs/cgroup"
HYBRID_UNIFIED = "/sys/fs/cgroup/unified"

class Mount:
    """One cgroup mount: where it is mounted and which cgroup is its root."""

    __slots__ = ("mountpoint", "root", "controllers")

    def __init__(self, mountpoint: str, root: str, controllers: tuple[str, ...]) -> None:
        self.mountpoint = mountpoint
        self.root = root
        self.controllers = controllers

    def __repr__(self) -> str:
        return f"Mount({self.mountpoint!r}, root={self.root!r}, {self.controllers!r})"


class Hierarchies:
    """The cgroup layout seen by this process."""

    def __init__(self, v1: dict[str, Mount], unified: Mount | None) -> None:
        self.v1 = v1                # controller (or "name=xxx") -> its v1 mount
        self.unified = unified      # the cgroup2 mount, if any

    @property
    def mode(self) -> str:
        """"unified", "hybrid", "v1" or "none"."""
        real_v1 = [c for c in self.v1 if not c.startswith("name=")]
        if self.unified is not None:
            if self.unified.mountpoint == DEFAULT_ROOT or not real_v1:
                return "unified"
            return "hybrid"
        return "v1" if self.v1 else "none"

    def unified_controllers(self) -> list[str]:
        """Controllers the cgroup2 root offers (those no v1 hierarchy has taken)."""
        if self.unified is None:
            return []
        try:
            with open(self.unified.mountpoint + "/cgroup.controllers") as f:
                return f.read().split()
        except OSError:
            return []


def _unescape(field: str) -> str:
    """Undo mountinfo's octal escapes ("\\040" is a space)."""
    if "\\" not in field:
        return field
    out, i = [], 0
    while i < len(field):
        chunk = field[i + 1:i + 4]
        if field[i] == "\\" and len(chunk) == 3 and all(c in "01234567" for c in chunk):
            out.append(chr(int(chunk, 8)))
            i += 4
        else:
            out.append(field[i])
            i += 1
    return "".join(out)


def parse_mountinfo(text: str) -> Hierarchies:
    v1: dict[str, Mount] = {}
    unified_candidates: list[Mount] = []
    for line in text.splitlines():
        head, sep, tail = line.partition(" - ")
        if not sep:
            continue
        fstype, _, rest = tail.partition(" ")
        if fstype not in ("cgroup", "cgroup2"):
            continue
        fields = head.split()
        if len(fields) < 5:
            continue
        root, mountpoint = _unescape(fields[3]), _unescape(fields[4])
        superopts = rest.split(" ", 1)[1] if " " in rest else ""
        if fstype == "cgroup2":
            unified_candidates.append(Mount(mountpoint, root, ()))
            continue
        names = tuple(o for o in superopts.split(",") if o not in ("rw", "ro") and
                      _is_controller_opt(o))
        mount = Mount(mountpoint, root, names)
        for name in names:
            current = v1.get(name)
            # Prefer the canonical location when a hierarchy is mounted twice.
            if current is None or (not current.mountpoint.startswith(DEFAULT_ROOT + "/")
                                   and mountpoint.startswith(DEFAULT_ROOT + "/")):
                v1[name] = mount
    unified = None
    for preferred in (DEFAULT_ROOT, HYBRID_UNIFIED):
        for m in unified_candidates:
            if m.mountpoint == preferred:
                unified = m
                break
        if unified:
            break
    if unified is None and unified_candidates:
        unified = unified_candidates[0]
    return Hierarchies(v1, unified)


_NOT_CONTROLLERS = frozenset((
    "relatime", "noatime", "nodiratime", "nosuid", "nodev", "noexec", "clone_children",
    "xattr", "noprefix", "cpuset_v2_mode", "favordynmods", "nsdelegate",
    "memory_localevents", "memory_recursiveprot", "memory_hugetlb_accounting",
    "pids_localevents",
))


def _is_controller_opt(opt: str) -> bool:
    if opt.startswith("name="):
        return True
    if "=" in opt or opt in _NOT_CONTROLLERS:
        return False
    return True


_cache: Hierarchies | None = None


def hierarchies() -> Hierarchies:
    """The hierarchies of this process (read once, see :func:`refresh`)."""
    global _cache
    if _cache is None:
        with open("/proc/self/mountinfo") as f:
            _cache = parse_mountinfo(f.read())
    return _cache


def refresh() -> None:
    """Forget the cached layout (after mounting or unmounting a hierarchy)."""
    global _cache
    _cache = None


def parse_proc_cgroup(text: str) -> dict[str, str]:
    """Map each controller of /proc/<pid>/cgroup to its cgroup; "" is the v2 entry."""
    out: dict[str, str] = {}
    for line in text.splitlines():
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        _, controllers, path = parts
        if not controllers:
            out[""] = path
            continue
        for c in controllers.split(","):
            out[c] = path
    return out


def own_cgroups(pid: int | str = "self") -> dict[str, str]:
    with open(f"/proc/{pid}/cgroup") as f:
        return parse_proc_cgroup(f.read())
