"""Signal names and numbers as runc's kill accepts them (KILL, SIGKILL, 9).

Like runc, any integer is taken as it is (0 checks that the process exists; one the
kernel does not know fails at the kill, "invalid argument")."""

from __future__ import annotations

import _signal as signal  # the signal module's enums cost ~3 ms

from runtime.errors import PyruncError
from spec.jsonio import dumps


def _unknown(text: str) -> PyruncError:
    return PyruncError(f"unknown signal {dumps(text)}")     # Go's %q, as runc words it


def parse(text: str) -> int:
    digits = text[1:] if text[:1] in "+-" else text
    if digits.isascii() and digits.isdigit():
        num = int(text)
        if -(1 << 31) <= num < 1 << 31:
            return num
        raise _unknown(text)
    name = text.upper()
    if not name.startswith("SIG"):
        name = "SIG" + name
    sig = getattr(signal, name, None) if name not in ("SIG_DFL", "SIG_IGN") else None
    if not isinstance(sig, int) or name in ("SIGRTMIN", "SIGRTMAX"):
        if name.startswith("SIGRTMIN") or name.startswith("SIGRTMAX"):
            return _realtime(name)
        raise _unknown(text)
    return int(sig)


def _realtime(name: str) -> int:
    base, _, off = name.partition("+") if "+" in name else name.partition("-")
    lo, hi = signal.SIGRTMIN, signal.SIGRTMAX
    n = lo if base == "SIGRTMIN" else hi
    try:
        delta = int(off) if off else 0
    except ValueError:
        raise _unknown(name) from None
    n = n + delta if "+" in name else n - delta
    if not lo <= n <= hi:
        raise _unknown(name)
    return n
