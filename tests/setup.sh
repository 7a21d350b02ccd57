#!/usr/bin/env bash
# Set up everything pyrunc needs on a Debian machine, idempotently:
# system packages, a venv in .venv, and pyrunc with its C extension built.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" != 0 ]; then
    echo "pyrunc's set-up and tests need root (namespaces, cgroups, mounts)" >&2
    exit 1
fi

# criu: its RPC messages (pycriu) let `features` report checkpoint support, as runc;
# criu itself runs in the guest (this kernel is too new for Debian's 3.17).
PACKAGES=(python3 python3-venv python3-dev gcc libc6-dev libseccomp-dev busybox-static runc crun uidmap criu)
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
# pyrunc installed as users install it: a real (non-editable) install of the
# package, C extension built, and the `pyrunc` script settled into the fast
# launcher by its first run (runtime/startup).  The tests run that
# .venv/bin/pyrunc, so a change to the sources needs this again: tests/run.sh and
# the test session (tests/conftest.py) do it when a source is newer than the stamp.
stamp=.venv/.pyrunc-installed
if [ ! -f "$stamp" ] || [ -n "$(find pyproject.toml setup.py runtime spec conformance \
        -newer "$stamp" -not -path '*/__pycache__*' -not -name 'modules.archive' -print -quit)" ]; then
    touch "$stamp.new"  # sources edited during the install make the next run install again
    .venv/bin/pip install -q --upgrade pip >/dev/null
    # The build's own requirements in .venv: a reinstall after an edit then takes
    # seconds (no build environment; the C extension rebuilt only if its C changed).
    .venv/bin/pip install -q 'setuptools>=77' wheel 'cffi>=1.15'
    .venv/bin/pip install -q --no-build-isolation '.[test,criu]'
    .venv/bin/pyrunc --version >/dev/null  # first use: the module archive, the fast launcher
    mv "$stamp.new" "$stamp"
fi
