#!/usr/bin/env bash
# Set up pyrunc and run the test suite (real containers: run as root).
# Extra arguments go to pytest, e.g. `bash tests/run.sh -k lifecycle`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tests/setup.sh
.venv/bin/ruff check runtime spec conformance tests
exec .venv/bin/python -m pytest -q "$@"
