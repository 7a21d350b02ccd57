#!/usr/bin/env bash
# The guest has no network: build here, with Debian's /usr/bin/python3 (the
# same 3.11 as the guest's), a wheelhouse of what the checkout's set-up
# installs with pip: the build requirements, the dependencies and the extras
# but the bench's, pip itself, and grpcio for the Kubernetes CRI tests.
# Cached in $PYRUNC_GUEST_CACHE under a hash of that list; prints its path.
#   bash tests/guest/wheels.sh CHECKOUT
set -euo pipefail
checkout=${1:?usage: wheels.sh CHECKOUT}
cache=${PYRUNC_GUEST_CACHE:-/var/cache/pyrunc-guest}
py=/usr/bin/python3

reqs=$($py - "$checkout/pyproject.toml" <<'EOF'
import sys, tomllib
with open(sys.argv[1], "rb") as f:
    p = tomllib.load(f)
reqs = list(p.get("build-system", {}).get("requires", []))
reqs += p.get("project", {}).get("dependencies", [])
for extra, deps in p.get("project", {}).get("optional-dependencies", {}).items():
    if extra != "bench":
        reqs += deps
reqs += ["pip", "setuptools", "wheel", "grpcio"]
print("\n".join(sorted(set(reqs))))
EOF
)
key=$( { echo "$reqs"; $py -c 'import sys; print(sys.version)'; } | sha256sum | cut -c1-16)
dir=$cache/wheels/$key
mkdir -p "$cache/wheels"
exec 9>"$cache/wheels/lock"
flock 9
if [ ! -f "$dir/.done" ]; then
    rm -rf "$dir"
    venv=$cache/wheels/.venv
    [ -x "$venv/bin/pip" ] || $py -m venv "$venv" >&2
    mapfile -t req_list <<< "$reqs"
    echo "guest wheels: building ${req_list[*]}" >&2
    "$venv/bin/pip" wheel -q --disable-pip-version-check -w "$dir" "${req_list[@]}" >&2
    touch "$dir/.done"
    # Other checkouts may use other lists: only a week-old wheelhouse goes.
    find "$cache/wheels" -mindepth 1 -maxdepth 1 -type d -name '????????????????' \
        -mtime +7 -exec rm -rf {} + || true
fi
echo "$dir"
