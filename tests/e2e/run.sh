#!/usr/bin/env bash
# Run the end-to-end client suite (Docker, containerd, podman, Kubernetes CRI).
# The runtime under test is $PYRUNC_TEST_RUNTIME or .venv/bin/pyrunc; run it
# with PYRUNC_TEST_RUNTIME=/usr/sbin/runc to check the suite itself.
# Extra arguments go to pytest, e.g. `bash tests/e2e/run.sh -k docker`.
set -euo pipefail
cd "$(dirname "$0")/../.."
bash tests/setup.sh
bash tests/e2e/setup.sh
exec .venv/bin/python -m pytest -q -m e2e tests/e2e "$@"
