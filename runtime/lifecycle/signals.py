"""Signal names and numbers as runc's kill accepts them (KILL, SIGKILL, 9)."""

from __future__ import annotations

import _signal as signal  # the signal module's enums cost ~3 ms

from runtime.errors import PyruncError


def parse(text: str) -> int:
    if text.isdigit():
        num = int(text)
        if 0 < num < signal.NSIG:
            return num
        raise PyruncError(f"unknown signal {text!r}")
    name = text.upper()
    if not name.startswith("SIG"):
        name = "SIG" + name
    sig = getattr(signal, name, None) if name not in ("SIG_DFL", "SIG_IGN") else None
    if not isinstance(sig, int) or name in ("SIGRTMIN", "SIGRTMAX"):
        if name.startswith("SIGRTMIN") or name.startswith("SIGRTMAX"):
            return _realtime(name)
        raise PyruncError(f"unknown signal {text!r}")
    return int(sig)


def _realtime(name: str) -> int:
    base, _, off = name.partition("+") if "+" in name else name.partition("-")
    lo, hi = signal.SIGRTMIN, signal.SIGRTMAX
    n = lo if base == "SIGRTMIN" else hi
    try:
        delta = int(off) if off else 0
    except ValueError:
        raise PyruncError(f"unknown signal {name!r}") from None
    n = n + delta if "+" in name else n - delta
    if not lo <= n <= hi:
        raise PyruncError(f"unknown signal {name!r}")
    return n
