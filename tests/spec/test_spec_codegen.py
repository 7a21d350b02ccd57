"""The generated validators: up to date, import-free, and in agreement with jsonschema."""

import ast
import copy
import json
import re
import subprocess
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from spec_testlib import (
    DATA,
    OUR_SCHEMAS,
    full_linux_config,
    load_json,
    our_validator,
    upstream_cases,
    upstream_params,
)

from spec import _config_validator, _features_validator, _state_validator, codegen
from spec.defaults import default_config

GENERATED = {
    "config": (_config_validator, _config_validator._config),
    "state": (_state_validator, _state_validator._state),
    "features": (_features_validator, _features_validator._features),
}


@pytest.mark.parametrize("module", sorted(codegen.TARGETS))
def test_committed_module_matches_regeneration(module):
    committed = (codegen.SPEC_DIR / module).read_text()
    assert committed == codegen.generate(module), "run: python3 -m spec.codegen"


@pytest.mark.parametrize("module", sorted(codegen.TARGETS))
def test_generated_module_imports_only_lazily_and_only_c_json_or_re(module):
    tree = ast.parse((codegen.SPEC_DIR / module).read_text())
    top_level = [n for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))]
    assert top_level == []
    nested = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    nested |= {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    assert nested <= {"_json", "re"} | ({"spec"} if module in codegen.DEFERRED else set())


def test_other_platforms_are_checked_by_a_module_loaded_only_for_them():
    script = (
        "import sys\n"
        "from spec._config_validator import check_config\n"
        "from spec.defaults import default_config\n"
        "assert check_config(default_config()) is None\n"
        "print('spec._config_platforms_validator' in sys.modules)\n"
        "print(check_config({'ociVersion': '1.0.0', 'windows': {'layerFolders': 5}}))\n"
        "print('spec._config_platforms_validator' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         cwd=codegen.SPEC_DIR.parent, check=True).stdout.splitlines()
    assert out == ["False", "windows.layerFolders: expected an array, got an integer", "True"]


def test_codegen_refuses_keywords_it_does_not_implement(tmp_path, monkeypatch):
    (tmp_path / "config.schema.json").write_text(
        json.dumps({"type": "object", "properties": {"a": {"type": "array", "uniqueItems": True}}})
    )
    monkeypatch.setattr(codegen, "SCHEMA_DIR", tmp_path)
    with pytest.raises(codegen.SchemaError, match="uniqueItems"):
        codegen.Module().render((("check_config", "config.schema.json", ""),))


# -- agreement with jsonschema ---------------------------------------------------------------

_TOKEN = re.compile(r'\.([^.\[]+)|\[(\d+)\]|\[("(?:[^"\\]|\\.)*")\]')


def _parse_path(path: str) -> tuple:
    parts, pos = [], 0
    while pos < len(path):
        m = _TOKEN.match(path, pos)
        assert m, f"unparsable path {path!r} at {pos}"
        name, index, quoted = m.groups()
        parts.append(name if name is not None else int(index) if index else json.loads(quoted))
        pos = m.end()
    return tuple(parts)


def assert_agree(kind: str, doc) -> None:
    """Both validators give the same verdict; our first error is one jsonschema reports."""
    _, inner = GENERATED[kind]
    ours = inner(doc, "")
    theirs = {tuple(e.absolute_path) for e in our_validator(kind).iter_errors(doc)}
    assert (ours is None) == (not theirs), f"ours={ours} jsonschema={sorted(map(str, theirs))}"
    if ours is not None:
        assert _parse_path(ours[0]) in theirs, f"ours={ours} jsonschema={theirs}"


@pytest.mark.parametrize(
    "kind,path",
    upstream_params(GENERATED, ("good", "bad")),
)
def test_agrees_with_jsonschema_on_upstream_files(kind, path):
    try:
        doc = load_json(path)
    except ValueError:
        return  # not JSON: nothing for a schema to judge
    assert_agree(kind, doc)
    assert (GENERATED[kind][1](doc, "") is None) == (path.parent.name == "good")


def _schema_words() -> tuple[list[str], list[str]]:
    """Every enum value and property name in our schemas: the likeliest strings to matter."""
    values, names = set(), set()

    def walk(node):
        if isinstance(node, dict):
            values.update(v for v in node.get("enum", []) + [node.get("const")] if v)
            names.update(node.get("properties", {}))
            names.update(node.get("required", []))
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    for f in sorted(OUR_SCHEMAS.glob("*.json")):
        walk(load_json(f))
    return sorted(values), sorted(names)


ENUM_WORDS, PROPERTY_NAMES = _schema_words()
TRICKY_STRINGS = [
    "", "/", "/abs/path", "rel/path", "1.3.0", "1.0.2-dev", "1.0", "v1.0.0", "01.0.0",
    "1.0.0+build.1", "RLIMIT_NOFILE", "RLIMIT_nofile", "2MB", "64kB", "0-3,7", "0-3,", "7",
    "MB:0=20", "MB:0=20\nL3:0=f", "L3:0=ff", "x\n", "rwm", "rwx", "a", "c", "b", "p", "u",
    "CAP_SYS_ADMIN", "cap_kill",
]
EDGE_INTS = [
    0, 1, -1, 7, 255, 256, 65535, 65536, 2**31 - 1, 2**31, -(2**31), -(2**31) - 1,
    2**32 - 1, 2**32, 2**63 - 1, 2**63, -(2**63), -(2**63) - 1, 2**64 - 1, 2**64,
]
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.sampled_from(EDGE_INTS),
    st.integers(),
    st.sampled_from([0.5, 1.0, -1.0, 1e300]),
    st.sampled_from(TRICKY_STRINGS + ENUM_WORDS),
    st.sampled_from(ENUM_WORDS).map(str.lower),
    st.text(max_size=4),
)
keys = st.one_of(st.sampled_from(PROPERTY_NAMES + ["", "x-unknown", "a.b"]), st.text(max_size=3))
values = st.one_of(
    scalars,
    st.lists(scalars, max_size=3),
    st.dictionaries(keys, scalars, max_size=3),
    st.lists(st.dictionaries(keys, scalars, max_size=2), min_size=1, max_size=2),
)


def _nodes(doc, path=()):
    yield path, doc
    if isinstance(doc, dict):
        for k, v in doc.items():
            yield from _nodes(v, path + (k,))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            yield from _nodes(v, path + (i,))


def _mutate(data, doc):
    """Apply one random edit: replace a value, drop or add a key, drop or add an item."""
    nodes = list(_nodes(doc))
    path, node = data.draw(st.sampled_from(nodes), label="target")
    containers = [(p, n) for p, n in nodes if isinstance(n, (dict, list))]
    op = data.draw(st.sampled_from(["replace", "replace", "drop", "add"]), label="op")
    if op == "replace" and path:
        parent = doc
        for part in path[:-1]:
            parent = parent[part]
        parent[path[-1]] = data.draw(values, label="value")
        return
    cpath, container = data.draw(st.sampled_from(containers), label="container")
    if op == "drop" and container:
        key = data.draw(st.sampled_from(list(container.keys() if isinstance(container, dict)
                                             else range(len(container)))), label="drop")
        del container[key]
    elif isinstance(container, dict):
        container[data.draw(keys, label="key")] = data.draw(values, label="new")
    else:
        container.append(data.draw(values, label="item"))


def _config_bases() -> list[dict]:
    # The full example holds every Linux field, so it gets most of the edits.
    bases = [full_linux_config()] * 6 + [default_config(), default_config(rootless=True)]
    bases += [load_json(p) for p in upstream_cases("config", "good")]
    return bases


CONFIG_BASES = _config_bases()
STATE_BASES = [load_json(p) for p in upstream_cases("state", "good")]
FEATURES_BASES = [load_json(p) for p in upstream_cases("features", "good")]
FAST = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])


@settings(FAST, max_examples=200)
@given(st.data())
def test_agrees_with_jsonschema_on_mutated_configs(data):
    doc = copy.deepcopy(data.draw(st.sampled_from(CONFIG_BASES), label="base"))
    for _ in range(data.draw(st.integers(1, 3), label="edits")):
        _mutate(data, doc)
    assert_agree("config", doc)


@pytest.mark.skipif(not STATE_BASES, reason="upstream schema not present (its state and "
                    "features test files are the bases)")
@settings(FAST, max_examples=100)
@given(st.data())
def test_agrees_with_jsonschema_on_mutated_state_and_features(data):
    kind, bases = data.draw(
        st.sampled_from([("state", STATE_BASES), ("features", FEATURES_BASES)]), label="kind"
    )
    doc = copy.deepcopy(data.draw(st.sampled_from(bases), label="base"))
    for _ in range(data.draw(st.integers(1, 2), label="edits")):
        _mutate(data, doc)
    assert_agree(kind, doc)


def _wrong_values(node) -> list:
    """Replacements that break a node of this kind: wrong types and out-of-range numbers."""
    if node is True or node is False:
        return ["true"]
    if isinstance(node, int):
        return [-1, 2**64]
    if isinstance(node, str):
        return [1, ""]
    if isinstance(node, list):
        return [{}, [None]]
    return [[], {"": 1}]


def _single_edits(doc):
    """Every config reachable from doc by one edit: each node replaced, each key dropped."""
    for path, node in _nodes(doc):
        for value in _wrong_values(node):
            edited = copy.deepcopy(doc)
            if not path:
                yield value
                continue
            parent = edited
            for part in path[:-1]:
                parent = parent[part]
            parent[path[-1]] = value
            yield edited
        if path and isinstance(path[-1], str):
            edited = copy.deepcopy(doc)
            parent = edited
            for part in path[:-1]:
                parent = parent[part]
            del parent[path[-1]]
            yield edited


def _examples():
    yield "config", DATA / "full-linux.json"
    yield "config", DATA / "other-platforms.json"
    yield from (("state", p) for p in upstream_cases("state", "good")[:1])
    yield from (("features", p) for p in upstream_cases("features", "good")[-1:])


@pytest.mark.parametrize("kind,example", list(_examples()), ids=lambda x: getattr(x, "name", x))
def test_agrees_with_jsonschema_on_every_single_edit_of_full_examples(kind, example):
    base = load_json(example)
    assert GENERATED[kind][1](base, "") is None
    disagreements, count = [], 0
    for doc in _single_edits(base):
        count += 1
        try:
            assert_agree(kind, doc)
        except AssertionError as e:
            disagreements.append(str(e).splitlines()[0])
    assert count > 20
    assert disagreements == []


# -- hand-written pattern matchers --------------------------------------------------------

_ALPHABET = "0123456789.-+_,: \nABGKMRLIMTCPXZabrwmxz\u00e9\u0663"
_PREFIXES = ["", "RLIMIT_", "CAP_", "MB:", "0", "1.0.0", "1.2.3-", "1.2.3+", "1.2.3-rc.1+b."]
_SUFFIXES = ["", "B", "KB", "MB", "GB", "\n", "-3", ",7"]
pattern_inputs = st.one_of(
    st.builds(
        lambda a, b, c: a + b + c,
        st.sampled_from(_PREFIXES),
        st.text(_ALPHABET, max_size=8),
        st.sampled_from(_SUFFIXES),
    ),
    st.sampled_from(TRICKY_STRINGS + ENUM_WORDS),
)


def _matcher(name: str):
    for module, _ in GENERATED.values():
        if hasattr(module, name):
            return getattr(module, name)
    raise AssertionError(f"{name} is in no generated module")


@pytest.mark.parametrize("pattern", sorted(codegen.FAST_PATTERNS))
@settings(deadline=None, max_examples=300)
@given(text=pattern_inputs)
def test_fast_matcher_agrees_with_the_regex(pattern, text):
    fast = _matcher(codegen.FAST_PATTERNS[pattern][0])
    assert fast(text) == (re.search(pattern, text) is not None)


@pytest.mark.parametrize(
    "version,valid",
    [
        ("1.3.0", True),
        ("0.5.0-dev", True),
        ("1.0.0-alpha.1+build.5.x-y", True),
        ("1.0.0-0A.is.legal", True),
        ("1.0.0+001", True),
        ("1.0", False),
        ("01.0.0", False),
        ("1.0.0-01", False),
        ("1.0.0-", False),
        ("1.0.0+", False),
        ("1.0.0-a..b", False),
        ("v1.0.0", False),
        ("1.0.\u0663", False),
    ],
)
def test_semver_matcher_examples(version, valid):
    assert _config_validator._is_semver(version) is valid
