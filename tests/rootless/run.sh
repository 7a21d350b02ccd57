#!/usr/bin/env bash
# The rootless lane: the lifecycle, exec, process-security and mounts tests, and
# tests/rootless, with every runtime command run as an unprivileged user (made by
# tests/rootless/user.sh) against pyrunc and runc.  Tests marked needs_root skip
# with their reason.  Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/../.."
bash tests/setup.sh
user=$(bash tests/rootless/user.sh)
export PYRUNC_TEST_AS_USER=$user
# Test paths among the arguments replace the default set.
paths=(tests/lifecycle tests/exec tests/security tests/mounts tests/rootless)
for a in "$@"; do
    case $a in tests/*) paths=(); break ;; esac
done
# A base for pytest's temp dirs of our own: /tmp/pytest-of-root is every root
# session's, and each one makes it 0700 again, out of the user's reach.
base=$(mktemp -d /tmp/pyrunc-rootless-lane.XXXXXX)
chmod 711 "$base"
trap 'rm -rf "$base"' EXIT
.venv/bin/python -m pytest -q -p no:cacheprovider --basetemp "$base/t" "${paths[@]}" "$@"
