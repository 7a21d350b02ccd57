"""linux.memoryPolicy -> one set_mempolicy(2) step (OP_SET_MEMPOLICY) in the container
process, whose policy its user program inherits.  Values come from <linux/mempolicy.h>:
a mode the build's headers lack (MPOL_WEIGHTED_INTERLEAVE before Linux 6.9) is an error."""

from __future__ import annotations

from runtime.errors import PyruncError
from runtime.native import lib
from runtime.native.plan import Plan

MODE_NAMES = ("MPOL_DEFAULT", "MPOL_PREFERRED", "MPOL_BIND", "MPOL_INTERLEAVE", "MPOL_LOCAL",
              "MPOL_PREFERRED_MANY", "MPOL_WEIGHTED_INTERLEAVE")
FLAG_NAMES = ("MPOL_F_NUMA_BALANCING", "MPOL_F_RELATIVE_NODES", "MPOL_F_STATIC_NODES")
_NO_NODES = ("MPOL_DEFAULT", "MPOL_LOCAL")
_NEED_NODES = ("MPOL_BIND", "MPOL_INTERLEAVE", "MPOL_PREFERRED_MANY", "MPOL_WEIGHTED_INTERLEAVE")
_WORD = 64  # bits in the kernel's unsigned long nodemask words (64-bit builds)


def modes() -> list[str]:
    """The modes this build knows (those its kernel headers define)."""
    return [m for m in MODE_NAMES if hasattr(lib, m)]


def flags() -> list[str]:
    return [f for f in FLAG_NAMES if hasattr(lib, f)]


def parse_nodes(text: str) -> list[int]:
    """"0-3,7" -> [0, 1, 2, 3, 7]."""
    nodes: set[int] = set()
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        lo, sep, hi = part.partition("-")
        try:
            first, last = int(lo), int(hi) if sep else int(lo)
        except ValueError:
            raise PyruncError(f"memoryPolicy: invalid nodes {text!r}") from None
        if first < 0 or last < first:
            raise PyruncError(f"memoryPolicy: invalid node range {part!r}")
        nodes.update(range(first, last + 1))
    return sorted(nodes)


def nodemask(nodes: list[int]) -> tuple[bytes, int]:
    """(unsigned long[] as bytes, number of bits) for set_mempolicy(2)."""
    if not nodes:
        return b"", 0
    words = nodes[-1] // _WORD + 1
    mask = 0
    for n in nodes:
        mask |= 1 << n
    return mask.to_bytes(words * _WORD // 8, "little"), words * _WORD


def resolve(policy: dict) -> tuple[int, list[int]]:
    """Validate linux.memoryPolicy; returns (mode | flags, nodes)."""
    mode = policy.get("mode") or ""
    if mode not in MODE_NAMES:
        raise PyruncError(f"memoryPolicy: invalid mode {mode!r}")
    if not hasattr(lib, mode):
        raise PyruncError(f"memoryPolicy: mode {mode} is not supported by this build of pyrunc")
    value = int(getattr(lib, mode))
    for name in policy.get("flags") or []:
        if name not in FLAG_NAMES:
            raise PyruncError(f"memoryPolicy: invalid flag {name!r}")
        value |= int(getattr(lib, name))
    nodes = parse_nodes(policy.get("nodes") or "")
    if nodes and mode in _NO_NODES:
        raise PyruncError(f"memoryPolicy: mode {mode} takes no nodes")
    if not nodes and mode in _NEED_NODES:
        raise PyruncError(f"memoryPolicy: mode {mode} needs nodes")
    return value, nodes


def add(plan: Plan, policy: dict) -> None:
    value, nodes = resolve(policy)
    import sys

    mask, bits = nodemask(nodes)
    if sys.byteorder != "little":  # words are native unsigned longs
        mask = b"".join(mask[i:i + 8][::-1] for i in range(0, len(mask), 8))
    plan.add(lib.OP_SET_MEMPOLICY, f"set the memory policy {policy.get('mode')}",
             n=(value,), data=mask or None, count=bits)
