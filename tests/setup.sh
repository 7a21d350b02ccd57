#!/usr/bin/env bash
# Set up everything pyrunc needs on a Debian machine, idempotently:
# system packages, a venv in .venv, and pyrunc with its C extension built.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" != 0 ]; then
    echo "pyrunc's set-up and tests need root (namespaces, cgroups, mounts)" >&2
    exit 1
fi

PACKAGES=(python3 python3-venv python3-dev gcc libseccomp-dev libcap-dev busybox-static runc crun)
missing=()
for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "installing ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if [ ! -x .venv/bin/python ]; then
    /usr/bin/python3 -m venv .venv
fi
stamp=.venv/.pyrunc-installed
if [ ! -f "$stamp" ] || [ -n "$(find pyproject.toml setup.py runtime/native -newer "$stamp" -print -quit)" ]; then
    .venv/bin/pip install -q --upgrade pip >/dev/null
    .venv/bin/pip install -q -e '.[test]'
    touch "$stamp"
fi
