#!/usr/bin/env bash
# Set up pyrunc and run the test suite (real containers: run as root), then the
# rootless lane.
# Extra arguments go to pytest, e.g. `bash tests/run.sh -k lifecycle`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tests/setup.sh
.venv/bin/ruff check runtime spec conformance tests
status=0
.venv/bin/python -m pytest -q "$@" || status=$?
# The whole suite also runs its lifecycle, exec, security and mounts tests again
# with every runtime command as an unprivileged user (docs/rootless.md).
if [ $# -eq 0 ]; then
    bash tests/rootless/run.sh tests/lifecycle tests/exec tests/security tests/mounts ||
        status=$?
fi
exit $status
