"""spec.jsonio: JSON on the _json C module alone."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from spec import jsonio
from tests.support.runtime import REPO

DOCS = [{"a": [1, 2.5, True, None, "x\u00e9\n\"q"], "b": {}, "c": []}, [], {}, "s", -3]


@pytest.mark.parametrize("doc", DOCS)
def test_round_trip_agrees_with_json(doc):
    assert jsonio.loads(jsonio.dumps(doc)) == doc
    assert json.loads(jsonio.dumps_indent(doc)) == doc
    assert jsonio.loads(json.dumps(doc, indent=2)) == doc


def test_errors_in_a_fresh_interpreter_are_value_errors():
    """Python 3.11's _json needs json.decoder imported to raise its errors; in a
    runtime process it is not, and that must still give a ValueError."""
    code = (
        "import sys; from spec import jsonio\n"
        "for bad in ['{\"a\": tru}', '{\"a\":1,}', '{\"a\" 1}', '[1, 2', '\"x', '']:\n"
        "    try:\n"
        "        jsonio.loads(bad)\n"
        "    except ValueError as e:\n"
        "        print(type(e).__name__)\n"
    )
    p = subprocess.run([sys.executable, "-S", "-c", code], cwd=REPO, capture_output=True,
                       text=True, timeout=30)
    assert p.returncode == 0, p.stderr
    assert len(p.stdout.split()) == 6
