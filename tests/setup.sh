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
# (the bytecode compileall writes below is no reason to reinstall)
if [ ! -f "$stamp" ] || [ -n "$(find pyproject.toml setup.py runtime/native -newer "$stamp" \
        ! -path '*/__pycache__*' -print -quit)" ]; then
    .venv/bin/pip install -q --upgrade pip >/dev/null
    # compat mode: a plain .pth path entry; the default editable finder costs
    # ~13 ms of imports (pathlib, urllib, ...) on every pyrunc start.
    .venv/bin/pip install -q -e '.[test]' --config-settings editable_mode=compat
    touch "$stamp"
fi
# pyrunc's launcher: `python -S` skips site (its .pth processing costs ~3 ms on
# every command); the two paths site would add are set by the launcher itself.
# A command's imports allocate tens of thousands of objects that live until it
# exits: the cycle collector's default threshold (700) would walk them again and
# again (~0.7 ms of a run).
site=$(.venv/bin/python -c 'import sysconfig; print(sysconfig.get_path("purelib"))')
cat > .venv/bin/pyrunc <<EOF
#!$PWD/.venv/bin/python3 -S
import gc
import sys
gc.set_threshold(50000)
sys.path[0:0] = ["$PWD", "$site"]
from runtime.bundle import install
install()
from runtime.cli import entry
entry()
EOF
# Bytecode ahead of time: with PYTHONDONTWRITEBYTECODE set (as on these machines)
# every start would otherwise compile the sources again.  The module archive
# (runtime/bundle.py) saves importlib's file-system work on pyrunc's own modules.
.venv/bin/python -m compileall -q runtime spec >/dev/null
.venv/bin/python -m runtime.bundle >/dev/null
