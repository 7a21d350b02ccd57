#!/usr/bin/env bash
# Install the real clients the end-to-end suite drives: Debian's docker.io,
# containerd and podman, plus grpcio in .venv for the Kubernetes CRI calls.
# Idempotent. Never starts a service: the suite starts its own daemons on
# private roots. If a package cannot be installed this says so and exits 0;
# the tests that need it then skip with that reason.
set -uo pipefail
cd "$(dirname "$0")/../.."

if [ "$(id -u)" != 0 ]; then
    echo "tests/e2e/setup.sh: needs root" >&2
    exit 1
fi

# docker.io brings containerd, runc and tini (docker-init); podman brings conmon.
PACKAGES=(docker.io containerd podman conmon netavark busybox-static)
missing=()
for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "e2e: installing ${missing[*]}"
    # Keep the packages' maintainer scripts from starting system daemons.
    made_policy=""
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
        chmod 755 /usr/sbin/policy-rc.d
        made_policy=1
    fi
    if ! { apt-get update -qq &&
           DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
               "${missing[@]}" >/dev/null; }; then
        echo "e2e: could not install ${missing[*]}; the client tests will skip" >&2
    fi
    [ -n "$made_policy" ] && rm -f /usr/sbin/policy-rc.d
fi

if [ -x .venv/bin/python ] && ! .venv/bin/python -c 'import grpc' 2>/dev/null; then
    .venv/bin/pip install -q grpcio >/dev/null 2>&1 ||
        echo "e2e: could not install grpcio; the Kubernetes CRI tests will skip" >&2
fi
exit 0
