"""JSON read and write on the C accelerator, without the `json` package.

`import json` pulls in re, enum, functools and collections: about 6 ms, paid
by every pyrunc command.  The `_json` C module alone does the parsing and the
string escaping; this module adds the little glue json.loads/dumps would.
Errors are raised as ValueError (JSONDecodeError is one) with line and column.
"""

from __future__ import annotations

import _json


class _Context:
    """What _json's scanner reads from a json.JSONDecoder."""

    strict = True
    object_hook = None
    object_pairs_hook = None
    parse_float = float
    parse_int = int
    memo: dict = {}

    @staticmethod
    def parse_constant(name: str) -> float:
        return {"-Infinity": float("-inf"), "Infinity": float("inf"), "NaN": float("nan")}[name]


_scan = _json.make_scanner(_Context())
_WS = " \t\n\r"


def _error(msg: str, doc: str, pos: int) -> ValueError:
    line = doc.count("\n", 0, pos) + 1
    col = pos - doc.rfind("\n", 0, pos)
    return ValueError(f"{msg}: line {line} column {col} (char {pos})")


def loads(data: str | bytes) -> object:
    doc = data.decode() if isinstance(data, bytes) else data
    start = len(doc) - len(doc.lstrip(_WS))
    try:
        obj, end = _scan(doc, start)
    except StopIteration as e:
        raise _error("Expecting value", doc, e.value) from None
    except SystemError:
        # Python 3.11's _json builds its error from json.decoder only if that is
        # already imported; otherwise it fails without an exception.  Bad input is
        # rare: import it then, and scan again for the real error.
        import json.decoder  # noqa: F401

        try:
            obj, end = _scan(doc, start)
        except StopIteration as e:
            raise _error("Expecting value", doc, e.value) from None
    rest = len(doc) - len(doc[end:].lstrip(_WS))
    if rest != len(doc):
        raise _error("Extra data", doc, rest)
    return obj


_encode_str = _json.encode_basestring  # UTF-8 kept as is, like Go's encoding/json


def _unsupported(obj: object) -> object:
    raise TypeError(f"Object of type {type(obj).__name__} is not JSON serializable")


_compact = _json.make_encoder(None, _unsupported, _encode_str, None, ":", ",", False, False,
                              True)


def dumps(obj: object) -> str:
    """Compact JSON."""
    return "".join(_compact(obj, 0))


def clone(doc: dict) -> dict:
    """A deep copy of a JSON object (the copy module's imports cost ~2 ms)."""
    out = loads(dumps(doc))
    assert isinstance(out, dict)
    return out


def dumps_indent(obj: object, indent: str = "  ", level: int = 0) -> str:
    """Indented JSON as Go's json.MarshalIndent writes it (runc's `state`)."""
    pad = indent * (level + 1)
    if isinstance(obj, dict):
        if not obj:
            return "{}"
        items = [f"{pad}{_encode_str(str(k))}: {dumps_indent(v, indent, level + 1)}"
                 for k, v in obj.items()]
        return "{\n" + ",\n".join(items) + "\n" + indent * level + "}"
    if isinstance(obj, (list, tuple)):
        if not obj:
            return "[]"
        items = [pad + dumps_indent(v, indent, level + 1) for v in obj]
        return "[\n" + ",\n".join(items) + "\n" + indent * level + "]"
    return dumps(obj)
