"""Shared helpers for tests/spec: schema validators built with jsonschema, and test data."""

import json
from functools import cache
from pathlib import Path

import jsonschema
import pytest
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4, DRAFT202012

from tests.support import upstream

REPO = Path(__file__).resolve().parents[2]
OUR_SCHEMAS = REPO / "spec" / "schema"
DATA = Path(__file__).resolve().parent / "data"


def upstream_dir() -> Path:
    """The runtime-spec checkout in shared/ beside the repo (or where the env var says);
    a clone has none, and a test that needs it skips, saying so."""
    if not upstream.present():
        pytest.skip(f"{upstream.MISSING} ({upstream.SCHEMA_DIR})")
    return Path(upstream.SPEC_DIR)


def upstream_params(kinds, verdicts) -> list:
    """pytest params (kind, path) for the upstream schema test files of each kind and
    verdict ("good", "bad"); one skipped param, saying why, where the spec is absent."""
    if not upstream.present():
        reason = f"{upstream.MISSING} ({upstream.SCHEMA_DIR})"
        return [pytest.param(None, None, marks=pytest.mark.skip(reason=reason), id="absent")]
    return [pytest.param(kind, f, id=f"{kind}-{verdict}/{f.name}")
            for kind in kinds for verdict in verdicts for f in upstream_cases(kind, verdict)]


def upstream_cases(kind: str, verdict: str) -> list[Path]:
    """The upstream schema test files, e.g. upstream_cases("config", "good"); none
    where the spec is absent (then the tests that need them skip: upstream_params)."""
    if not upstream.present():
        return []
    files = sorted((upstream_dir() / "schema" / "test" / kind / verdict).glob("*.json"))
    assert files, f"no upstream {kind}/{verdict} test files"
    return files


def _strict_integers():
    # Our validators, like runc's Go decoder, take 1.0 for a fraction, not an integer.
    checker = jsonschema.Draft202012Validator.TYPE_CHECKER.redefine(
        "integer", lambda _checker, value: type(value) is int
    )
    return jsonschema.validators.extend(jsonschema.Draft202012Validator, type_checker=checker)


@cache
def our_validator(name: str, strict: bool = True):
    """jsonschema validator for spec/schema/<name>.schema.json (strict: integers are ints)."""
    registry = Registry()
    for f in OUR_SCHEMAS.glob("*.schema.json"):
        resource = Resource.from_contents(json.loads(f.read_text()), DRAFT202012)
        registry = registry.with_resource(f.name, resource)
    schema = json.loads((OUR_SCHEMAS / f"{name}.schema.json").read_text())
    cls = _strict_integers() if strict else jsonschema.Draft202012Validator
    return cls(schema, registry=registry)


@cache
def upstream_validator(name: str):
    """jsonschema validator for the upstream <name>-schema.json (draft-04)."""
    sdir = upstream_dir() / "schema"
    registry = Registry()
    for f in sdir.glob("*.json"):
        resource = Resource.from_contents(json.loads(f.read_text()), DRAFT4)
        registry = registry.with_resource(f.name, resource)
    schema = json.loads((sdir / f"{name}-schema.json").read_text())
    return jsonschema.Draft4Validator(schema, registry=registry)


def load_json(path: Path):
    return json.loads(path.read_text())


def full_linux_config() -> dict:
    """A config that sets every Linux field of the spec."""
    return load_json(DATA / "full-linux.json")
