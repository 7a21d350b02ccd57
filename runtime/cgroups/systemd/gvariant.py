"""Values of ``org.systemd.property.<Name>`` annotations, in GVariant's text
format (as runc parses them with godbus' ParseVariant), as jeepney variants
(signature, value).  The subset systemd's properties use: booleans, numbers
(typed with a keyword like "uint64 5", untyped integers are int32 and others
double), strings, object paths, arrays, tuples and "@sig value"."""

from __future__ import annotations

from runtime.cgroups import CgroupError

_KEYWORDS = {"boolean": "b", "byte": "y", "int16": "n", "uint16": "q", "int32": "i",
             "uint32": "u", "int64": "x", "uint64": "t", "handle": "h", "double": "d",
             "string": "s", "objectpath": "o", "signature": "g"}
_INT_BOUNDS = {"y": (0, 255), "n": (-2**15, 2**15 - 1), "q": (0, 2**16 - 1),
               "i": (-2**31, 2**31 - 1), "u": (0, 2**32 - 1), "x": (-2**63, 2**63 - 1),
               "t": (0, 2**64 - 1), "h": (0, 2**32 - 1)}


class _Parser:
    def __init__(self, text: str) -> None:
        self.s = text
        self.i = 0

    def fail(self, why: str):
        raise CgroupError(why)

    def ws(self) -> None:
        while self.i < len(self.s) and self.s[self.i].isspace():
            self.i += 1

    def peek(self) -> str:
        self.ws()
        return self.s[self.i] if self.i < len(self.s) else ""

    def word(self) -> str:
        self.ws()
        j = self.i
        while j < len(self.s) and (self.s[j].isalnum() or self.s[j] in "+-._"):
            j += 1
        return self.s[self.i:j]

    def value(self, want: str = "") -> tuple[str, object]:
        c = self.peek()
        if c == "@":
            self.i += 1
            sig = self.word()
            self.i += len(sig)
            return self.value(sig)
        if c and c in "'\"":
            return self.coerce(want or "s", self.string())
        if c == "[":
            return self.array(want)
        if c == "(":
            return self.tuple_(want)
        w = self.word()
        if not w:
            self.fail(f"unexpected {c!r}" if c else "unexpected end of value")
        if w in _KEYWORDS:
            self.i += len(w)
            return self.value(_KEYWORDS[w])
        self.i += len(w)
        if w in ("true", "false"):
            return self.coerce(want or "b", w == "true")
        try:
            num: object = int(w, 0)
            sig = "i"
        except ValueError:
            try:
                num, sig = float(w), "d"
            except ValueError:
                self.fail(f"unexpected {w!r}")
        return self.coerce(want or sig, num)

    def coerce(self, sig: str, v: object) -> tuple[str, object]:
        if sig == "b" and isinstance(v, bool):
            return sig, v
        if sig in _INT_BOUNDS and isinstance(v, int) and not isinstance(v, bool):
            lo, hi = _INT_BOUNDS[sig]
            if not lo <= v <= hi:
                self.fail(f"{v} out of range for type {sig}")
            return sig, v
        if sig == "d" and isinstance(v, (int, float)) and not isinstance(v, bool):
            return sig, float(v)
        if sig in "sog" and isinstance(v, str) and len(sig) == 1:
            return sig, v
        self.fail(f"cannot use {v!r} as type {sig}")

    def string(self) -> str:
        quote = self.s[self.i]
        self.i += 1
        out = []
        while self.i < len(self.s):
            ch = self.s[self.i]
            self.i += 1
            if ch == quote:
                return "".join(out)
            if ch == "\\" and self.i < len(self.s):
                esc = self.s[self.i]
                self.i += 1
                out.append({"n": "\n", "t": "\t", "r": "\r", "0": "\0"}.get(esc, esc))
            else:
                out.append(ch)
        self.fail("unterminated string")

    def array(self, want: str) -> tuple[str, object]:
        self.i += 1
        elem = want[1:] if want.startswith("a") else ""
        items = []
        while self.peek() != "]":
            if not self.peek():
                self.fail("unterminated array")
            if items:
                if self.peek() != ",":
                    self.fail("expected ',' in array")
                self.i += 1
            sig, v = self.value(elem)
            if elem and sig != elem:
                self.fail(f"array of {elem} holds a {sig}")
            elem = sig
            items.append(v)
        self.i += 1
        if not elem:
            self.fail("cannot infer the type of an empty array (write @as [])")
        return "a" + elem, items

    def tuple_(self, want: str) -> tuple[str, object]:
        self.i += 1
        sigs, items = [], []
        while self.peek() != ")":
            if not self.peek():
                self.fail("unterminated tuple")
            if items:
                if self.peek() != ",":
                    self.fail("expected ',' in tuple")
                self.i += 1
            sig, v = self.value()
            sigs.append(sig)
            items.append(v)
        self.i += 1
        return "(" + "".join(sigs) + ")", tuple(items)


def parse(text: str) -> tuple[str, object]:
    p = _Parser(text)
    out = p.value()
    if p.peek():
        p.fail(f"unexpected {p.s[p.i:]!r} after the value")
    return out


PREFIX = "org.systemd.property."
_NUMBERS = "ynqiuxtd"


def annotation_properties(annotations: dict | None) -> list[tuple[str, tuple[str, object]]]:
    """runc's initSystemdProps: "org.systemd.property.TimeoutStopSec": "uint64 5"
    becomes TimeoutStopUSec=5000000."""
    out = []
    for key, text in sorted((annotations or {}).items()):
        if not key.startswith(PREFIX):
            continue
        name = key[len(PREFIX):]
        bad = "too short" if len(name) < 3 else \
            "contains non-alphabetic character" if not (name.isascii() and name.isalpha()) \
            else ""
        if bad:
            raise CgroupError(f"annotation {key} name incorrect: {bad}")
        try:
            sig, value = parse(str(text))
            if name.endswith("Sec") and len(name) > 3 and name[-4].islower():
                if sig not in _NUMBERS:
                    raise CgroupError("not a number")
                name, sig, value = name[:-3] + "USec", "t", int(value * 1000000)
        except CgroupError as e:
            raise CgroupError(f"annotation {key}={text} value parse error: {e}") from None
        out.append((name, (sig, value)))
    return out
