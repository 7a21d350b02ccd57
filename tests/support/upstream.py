"""Validate documents against the upstream OCI schemas in ../shared (read, never copied)."""

from __future__ import annotations

import json
import os

from tests.support.runtime import REPO

SCHEMA_DIR = os.path.join(os.path.dirname(REPO), "shared", "oci-runtime-spec", "schema")


def validate(document: object, schema_file: str) -> None:
    """Raise jsonschema.ValidationError unless document matches schema_file (e.g.
    "state-schema.json"); $refs to the other upstream files are resolved locally."""
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
