"""Hypothesis strategies from our own JSON Schema (spec/schema/config.schema.json):
values that follow a schema node, and values just around it (edges, wrong types).

Only what the config schema uses is understood: type, enum, const, properties,
required, additionalProperties, items, minItems, minimum/maximum, minLength,
$ref (into $defs here or defs.schema.json), anyOf/oneOf. Patterns are not
generated from: strings come from a pool that includes valid-looking ones.
"""

from __future__ import annotations

import json
import os

from hypothesis import strategies as st

from tests.support.runtime import REPO

SCHEMA_DIR = os.path.join(REPO, "spec", "schema")

# Strings that matter to a runtime: paths of every kind, unicode, huge, NUL, names.
EDGE_STRINGS = [
    "", "/", ".", "..", "../..", "/..", "/../../..", "relative/path", "//double//slash",
    "/proc/self/root", "/proc/1/root/etc", "/dev/null", "/etc/passwd", "/tmp",
    "/nonexistent/path", "ümlaut-ünïcödé", "/ünïcödé/路径", "\u202e-rtl", "a\u0000b",
    "x" * 300, "/" + "y" * 5000, "space in name", "tab\tname", "newline\nname", "-leading",
    "rw", "ro", "bind", "rbind", "nosuid", "CAP_SYS_ADMIN", "RLIMIT_NOFILE", "SCHED_FIFO",
    "1.0.0", "1.3.0", "0-1", "0,1", "99999", "-1",
]
EDGE_INTS = [0, 1, -1, 2**31 - 1, 2**31, 2**32 - 1, 2**32, 2**63 - 1, 2**63, 2**64 - 1,
             2**64, -(2**63), -(2**63) - 1, 10**30]


def _load(name: str) -> dict:
    with open(os.path.join(SCHEMA_DIR, name)) as f:
        return json.load(f)


class Schema:
    def __init__(self) -> None:
        self.docs = {"config.schema.json": _load("config.schema.json"),
                     "defs.schema.json": _load("defs.schema.json")}

    def resolve(self, node: dict, doc: str) -> tuple[dict, str]:
        while "$ref" in node:
            ref = node["$ref"]
            target, _, pointer = ref.partition("#")
            doc = target or doc
            node = self.docs[doc]
            for part in pointer.strip("/").split("/"):
                if part:
                    node = node[part]
        return node, doc

    def node(self, path: str) -> tuple[dict, str]:
        """The schema node of a dotted config path, e.g. "linux.resources.memory"."""
        node, doc = self.docs["config.schema.json"], "config.schema.json"
        for key in path.split("."):
            node, doc = self.resolve(node, doc)
            node = node["properties"][key]
        return self.resolve(node, doc)

    def valid(self, node: dict, doc: str, depth: int = 0) -> st.SearchStrategy:
        """Values that follow the node (patterns aside)."""
        node, doc = self.resolve(node, doc)
        if "const" in node:
            return st.just(node["const"])
        if "enum" in node:
            return st.sampled_from(node["enum"])
        for key in ("anyOf", "oneOf"):
            if key in node:
                return st.one_of([self.valid(n, doc, depth) for n in node[key]])
        kind = node.get("type")
        if isinstance(kind, list):
            return st.one_of([self.valid(dict(node, type=k), doc, depth) for k in kind])
        if kind == "boolean":
            return st.booleans()
        if kind == "null":
            return st.none()
        if kind == "integer":
            lo, hi = node.get("minimum"), node.get("maximum")
            edges = [v for v in EDGE_INTS + [lo, hi] if v is not None
                     and (lo is None or v >= lo) and (hi is None or v <= hi)]
            return st.one_of(st.integers(min_value=lo, max_value=hi), st.sampled_from(edges))
        if kind == "number":
            return st.floats(allow_nan=False, allow_infinity=False, width=32)
        if kind == "string":
            pool = [s for s in EDGE_STRINGS if len(s) >= node.get("minLength", 0)]
            return st.one_of(st.sampled_from(pool),
                             st.text(min_size=node.get("minLength", 0), max_size=20))
        if kind == "array":
            items = node.get("items", {})
            return st.lists(self.valid(items, doc, depth + 1), min_size=node.get("minItems", 0),
                            max_size=0 if depth > 4 else 3)
        if kind == "object" or "properties" in node:
            props = node.get("properties") or {}
            required = set(node.get("required") or [])
            if depth > 4:
                return st.just({})
            fixed = {k: self.valid(v, doc, depth + 1) for k, v in props.items() if k in required}
            optional = {k: self.valid(v, doc, depth + 1) for k, v in props.items()
                        if k not in required}
            base = st.fixed_dictionaries(fixed, optional=optional)
            extra = node.get("additionalProperties")
            if isinstance(extra, dict) and not props:
                return st.dictionaries(st.sampled_from(EDGE_STRINGS[:12]) | st.text(max_size=8),
                                       self.valid(extra, doc, depth + 1), max_size=2)
            return base
        return st.just(None)

    def around(self, node: dict, doc: str) -> st.SearchStrategy:
        """Values just outside the node: wrong types, out-of-range numbers, junk."""
        node, doc = self.resolve(node, doc)
        wrong = st.sampled_from([None, True, 0, -1, 1.5, "", "junk", [], {}, [None], {"": 0},
                                 2**64, -(2**63) - 1, "x" * 10000])
        kind = node.get("type")
        if kind == "integer":
            lo, hi = node.get("minimum"), node.get("maximum")
            outside = [v for v in (None if lo is None else lo - 1, None if hi is None else hi + 1)
                       if v is not None]
            if outside:
                return st.one_of(st.sampled_from(outside), wrong)
        if "enum" in node:
            return st.one_of(st.sampled_from(["", "bogus", "RLIMIT_BOGUS", "CAP_BOGUS"]), wrong)
        return wrong
