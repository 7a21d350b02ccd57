#!/usr/bin/env bash
# Set up pyrunc, build a busybox bundle from the host's busybox-static and run a
# real container in it: `pyrunc run` with its own namespaces, cgroup and rootfs.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tests/setup.sh
bundle=$(mktemp -d /tmp/pyrunc-demo.XXXXXX)
trap 'rm -rf "$bundle"' EXIT
.venv/bin/python -m runtime.demo_bundle "$bundle" -- /bin/sh -c \
    'echo "hello from a pyrunc container: hostname $(hostname), pid $$, uid $(id -u)"; ls /'
cd "$bundle"
exec "$OLDPWD/.venv/bin/pyrunc" run "pyrunc-demo-$$"
