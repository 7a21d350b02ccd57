"""Device-cgroup rules: OCI entries, runc's default allow-list and a v1 emulator.

The v1 devices controller keeps a default (allow or deny everything) plus a list
of exceptions.  Writing rules one by one to a running container could briefly
deny a device it uses, so, like runc, we model the current and the wanted state
and only write the difference.
"""

from __future__ import annotations

from runtime.cgroups import CgroupError
from runtime.cgroups.files import q

WILDCARD = -1
_PERM_ORDER = "rwm"


class Rule:
    __slots__ = ("type", "major", "minor", "access", "allow")

    def __init__(self, type_: str, major: int, minor: int, access: str, allow: bool) -> None:
        self.type = type_          # "a", "b" or "c"
        self.major = major         # WILDCARD for "*"
        self.minor = minor
        self.access = access       # subset of "rwm", canonical order
        self.allow = allow

    def cgroup_string(self) -> str:
        major = "*" if self.major == WILDCARD else str(self.major)
        minor = "*" if self.minor == WILDCARD else str(self.minor)
        return f"{self.type} {major}:{minor} {self.access}"

    def __repr__(self) -> str:
        return f"Rule({'allow' if self.allow else 'deny'} {self.cgroup_string()})"


def canonical_access(access: str) -> str:
    return "".join(p for p in _PERM_ORDER if p in access)


# runc's specconv.AllowedDevices: appended after the user's rules, so users cannot
# take these away (runc keeps this for compatibility; so do we).
# (type, major, minor, access, path of the device node it stands for or "")
DEFAULT_ALLOWED = (
    ("c", WILDCARD, WILDCARD, "m", ""),
    ("b", WILDCARD, WILDCARD, "m", ""),
    ("c", 1, 3, "rwm", "/dev/null"),
    ("c", 1, 8, "rwm", "/dev/random"),
    ("c", 1, 7, "rwm", "/dev/full"),
    ("c", 5, 0, "rwm", "/dev/tty"),
    ("c", 1, 5, "rwm", "/dev/zero"),
    ("c", 1, 9, "rwm", "/dev/urandom"),
    ("c", 136, WILDCARD, "rwm", ""),   # /dev/pts/*
    ("c", 5, 2, "rwm", ""),            # /dev/ptmx
    ("c", 10, 200, "rwm", ""),         # /dev/net/tun
)


def rules_from_oci(entries: list, linux_devices: list | None = None) -> list[Rule]:
    """OCI ``linux.resources.devices`` (already validated) plus runc's default allow-list.

    A default entry whose device path is also declared in ``linux.devices`` is left
    out (the container's own device wins), as runc does.
    """
    rules = []
    for e in entries:
        major = e.get("major")
        minor = e.get("minor")
        rules.append(Rule(e.get("type") or "a",
                          WILDCARD if major is None else major,
                          WILDCARD if minor is None else minor,
                          canonical_access(e["access"]), bool(e["allow"])))
    declared = {d.get("path") for d in (linux_devices or []) if isinstance(d, dict)}
    for type_, major, minor, access, path in DEFAULT_ALLOWED:
        if path and path in declared:
            continue
        rules.append(Rule(type_, major, minor, access, True))
    return rules


class Emulator:
    """What a v1 devices cgroup allows: a default and per-device exceptions."""

    def __init__(self, default_allow: bool = False) -> None:
        self.default_allow = default_allow
        self.exceptions: dict[tuple[str, int, int], str] = {}

    def _add(self, key: tuple[str, int, int], access: str) -> None:
        self.exceptions[key] = canonical_access(self.exceptions.get(key, "") + access)

    def _remove(self, key: tuple[str, int, int], access: str) -> None:
        type_, major, minor = key
        # The kernel cannot carve a single device out of a wildcard exception.
        for partial in ((type_, WILDCARD, minor), (type_, major, WILDCARD),
                        (type_, WILDCARD, WILDCARD)):
            if partial != key and set(self.exceptions.get(partial, "")) & set(access):
                raise CgroupError(
                    f"device rule {type_} {_num(major)}:{_num(minor)} {access} is not "
                    f"supported by the v1 devices cgroup (cannot punch a hole in the "
                    f"wildcard rule {type_} {_num(partial[1])}:{_num(partial[2])})")
        left = canonical_access("".join(p for p in self.exceptions.get(key, "")
                                        if p not in access))
        if left:
            self.exceptions[key] = left
        else:
            self.exceptions.pop(key, None)

    def apply(self, rule: Rule) -> None:
        if rule.type == "a":
            self.default_allow = rule.allow
            self.exceptions = {}
            return
        key = (rule.type, rule.major, rule.minor)
        if rule.allow == self.default_allow:
            self._remove(key, rule.access)
        else:
            self._add(key, rule.access)

    @classmethod
    def from_rules(cls, rules: list[Rule]) -> Emulator:
        emu = cls(default_allow=False)
        for r in rules:
            emu.apply(r)
        return emu

    @classmethod
    def from_list(cls, text: str) -> Emulator:
        """Parse devices.list (which only ever shows allow entries)."""
        emu = cls(default_allow=False)
        for line in text.splitlines():
            fields = line.replace(":", " ").split()
            if len(fields) != 4:
                raise CgroupError(f"malformed devices.list rule {q(line)}")
            type_, major, minor, access = fields
            if type_ == "a":
                emu.default_allow = True
                emu.exceptions = {}
                continue
            emu._add((type_, _parse_num(major), _parse_num(minor)), access)
        return emu

    def transition(self, target: Emulator) -> list[Rule]:
        """Rules that turn this state into ``target`` without a deny-all window if possible."""
        out: list[Rule] = []
        old = self.exceptions
        # devices.list cannot show deny exceptions, so a blacklist is always reset.
        if self.default_allow or self.default_allow != target.default_allow:
            out.append(Rule("a", WILDCARD, WILDCARD, "rwm", target.default_allow))
            old = {}
        for key in sorted(old, key=_order):
            dropped = canonical_access("".join(p for p in old[key]
                                               if p not in target.exceptions.get(key, "")))
            if dropped:
                out.append(Rule(*key, dropped, target.default_allow))
        # In the rules' own order: devices.list keeps the order of the writes, and the
        # spec says entries are applied in the listed order (runtime-tools checks it).
        for key in target.exceptions:
            gained = canonical_access("".join(p for p in target.exceptions[key]
                                              if p not in old.get(key, "")))
            if gained:
                out.append(Rule(*key, gained, not target.default_allow))
        return out

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, Emulator) and self.default_allow == other.default_allow
                and self.exceptions == other.exceptions)


def _order(key: tuple[str, int, int]) -> tuple[int, int, str]:
    return (key[1], key[2], key[0])


def _num(n: int) -> str:
    return "*" if n == WILDCARD else str(n)


def _parse_num(text: str) -> int:
    if text == "*":
        return WILDCARD
    try:
        return int(text)
    except ValueError:
        raise CgroupError(f"malformed device number {q(text)} in devices.list") from None
