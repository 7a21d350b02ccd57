#!/usr/bin/env bash
# Set up a copy of the checkout for the guest, here on the host: pip, gcc and
# compileall cost minutes under TCG and seconds here.  The guest runs Debian
# 12's python3 like this host, and finds the copy at the same path,
# /work/pyrunc: the copy is set up there (tests/setup.sh, offline, from the
# wheelhouse) in a private mount namespace, where a tmpfs covers /work.
# Writes a tar of pyrunc/ (sources, .venv, the C extension, bytecode).
#   bash tests/guest/prepare.sh CHECKOUT WHEELHOUSE OUT.tar
# The venv and the C extension are cached in $PYRUNC_GUEST_CACHE/venvs under
# a hash of what they are built from (setup.sh, pyproject.toml, setup.py,
# runtime/native, the wheelhouse).
set -euo pipefail
checkout=$(cd "$1" && pwd)
wheels=$2
out=$3
cache=${PYRUNC_GUEST_CACHE:-/var/cache/pyrunc-guest}/venvs
mkdir -p "$cache"

stage=$(mktemp -d "${TMPDIR:-/var/tmp}/pyrunc-guest-stage.XXXXXX")
trap 'rm -rf "$stage"' EXIT
mkdir "$stage/pyrunc"
( cd "$checkout"
  if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
      # tracked and untracked files as they are now (uncommitted edits too)
      git ls-files -z -co --exclude-standard |
          /usr/bin/python3 -c 'import os, sys
paths = sys.stdin.buffer.read().split(b"\0")
sys.stdout.buffer.write(b"".join(p + b"\0" for p in paths if p and os.path.lexists(p)))'
  else
      find . -path ./.venv -prune -o -path ./.git -prune -o -name __pycache__ -prune \
          -o \( -type f -o -type l \) -print0
  fi | tar -cf - --null -T -
) | tar -xf - -C "$stage/pyrunc"

key=$( { basename "$wheels"; cd "$stage/pyrunc"
         cat tests/setup.sh pyproject.toml setup.py 2>/dev/null || true
         find runtime/native -type f 2>/dev/null | LC_ALL=C sort | xargs -r sha256sum
       } | sha256sum | cut -c1-16)
built=$cache/$key
if [ -f "$built/.venv/.pyrunc-installed" ]; then
    cp -a "$built/." "$stage/pyrunc/"
    # The stamp keeps the cached build's time: tests/setup.sh then installs again
    # every source newer than that build (pyrunc is a real install, not a link).
    touch "$built"
fi

[ -d /work ] || mkdir /work   # only a mount point for the namespace below
unshare -m --propagation private /bin/bash -c '
    set -e
    mount -t tmpfs -o mode=755 tmpfs /work
    mkdir /work/pyrunc
    mount --bind "$1" /work/pyrunc
    cd /work/pyrunc
    export PIP_NO_INDEX=1 PIP_FIND_LINKS="$2" PIP_CONFIG_FILE=/dev/null \
        PIP_DISABLE_PIP_VERSION_CHECK=1 PYTHONDONTWRITEBYTECODE=
    # (its output only on a failure: setuptools warns about the compat mode)
    bash tests/setup.sh > "$1/../setup.log" 2>&1 || { cat "$1/../setup.log"; exit 1; }
    # the Kubernetes CRI tests (tests/e2e/setup.sh would install it in the guest)
    .venv/bin/python -c "import grpc" 2>/dev/null || .venv/bin/pip install -q grpcio
    touch .venv/.pyrunc-installed
' prepare "$stage/pyrunc" "$wheels" >&2

if [ ! -d "$built" ]; then
    mkdir -p "$built.part.$$"
    ( cd "$stage/pyrunc" && cp -a --parents .venv $(ls -d ./*.egg-info runtime/native/*.so \
          runtime/native/_pyrunc_native.c 2>/dev/null) "$built.part.$$/" )
    mv -T "$built.part.$$" "$built" 2>/dev/null || rm -rf "$built.part.$$"
fi
find "$cache" -mindepth 1 -maxdepth 1 -mtime +2 -exec rm -rf {} + 2>/dev/null || true
tar -cf "$out" -C "$stage" pyrunc
