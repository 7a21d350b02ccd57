"""`import spec.config` must stay cheap: no jsonschema, json, re, typing or model at run time."""

import subprocess
import sys

from spec_testlib import REPO

HEAVY = {
    "jsonschema",
    "referencing",
    "hypothesis",
    "typing",
    "dataclasses",
    "spec.model",
    "json",
    "re",
    "enum",
}


def _new_modules(code: str) -> set[str]:
    """Modules that `code` loads beyond what a bare interpreter start already has."""
    probe = "import sys\nbefore = set(sys.modules)\n{}\nprint(sorted(set(sys.modules) - before))"
    out = subprocess.run(
        [sys.executable, "-c", probe.format(code)],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return set(eval(out))


def test_public_modules_import_nothing_heavy():
    loaded = _new_modules("import spec, spec.config, spec.state, spec.defaults")
    assert "spec.config" in loaded
    assert not loaded & HEAVY


def test_generated_validator_imports_nothing_at_all():
    loaded = _new_modules("import spec._config_validator")
    assert loaded == {"spec", "spec._config_validator"}
