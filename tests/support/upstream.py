"""Validate documents against the upstream OCI schemas in ../shared (read, never copied).

A clone of the repository has no ../shared: the tests that need it skip, saying so.
"""

from __future__ import annotations

import json
import os

from tests.support.runtime import REPO

SPEC_DIR = os.environ.get("OCI_RUNTIME_SPEC_DIR") or os.path.join(
    os.path.dirname(REPO), "shared", "oci-runtime-spec")
SCHEMA_DIR = os.path.join(SPEC_DIR, "schema")
MISSING = "upstream schema not present"


def present() -> bool:
    return os.path.isfile(os.path.join(SCHEMA_DIR, "config-schema.json"))


def require() -> None:
    """Skip the calling test unless the upstream schema is beside the repository."""
    if not present():
        import pytest

        pytest.skip(f"{MISSING} ({SCHEMA_DIR})")


def validate(document: object, schema_file: str) -> None:
    """Raise jsonschema.ValidationError unless document matches schema_file (e.g.
    "state-schema.json"); $refs to the other upstream files are resolved locally.
    Skips the test when the upstream schema is not present."""
    require()
    import jsonschema
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT4

    resources = []
    for name in os.listdir(SCHEMA_DIR):
        if name.endswith(".json"):
            with open(os.path.join(SCHEMA_DIR, name)) as f:
                resources.append((name, Resource.from_contents(json.load(f),
                                                               default_specification=DRAFT4)))
    registry = Registry().with_resources(resources)
    schema = registry.contents(schema_file)
    cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft4Validator)
    cls(schema, registry=registry).validate(document)
