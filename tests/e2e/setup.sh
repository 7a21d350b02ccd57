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
# Rootless podman and Docker (tests/e2e/*rootless*): newuidmap/newgidmap (uidmap),
# slirp4netns for podman's network, rootlesskit for dockerd-rootless.sh.
PACKAGES=(docker.io containerd podman conmon netavark busybox-static uidmap slirp4netns
          rootlesskit)
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
# The rootless tests' user, with its /etc/subuid and /etc/subgid ranges.
bash tests/rootless/user.sh >/dev/null || echo "e2e: could not make the rootless user" >&2
# slirp4netns opens /dev/net/tun as the user: udev's default rule makes it 0666,
# and a machine without udev (this VM) leaves the kernel's 0600.
if [ -c /dev/net/tun ] && [ "$(stat -c %a /dev/net/tun)" = 600 ]; then
    chmod 666 /dev/net/tun
fi
exit 0
