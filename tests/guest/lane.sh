#!/usr/bin/env bash
# The guest lane, from a fresh clone: build the Debian 12 systemd + cgroup v2
# guest (cached), boot it once and run there, against pyrunc (and runc where
# a test is written for both):
#   1. every test marked `guest` (the v2 driver on a real v2 host, and what
#      other parts of the project test only there), and the tests that touch
#      cgroups (tests/cgroups);
#   2. the conformance suite, pyrunc and runc side by side;
#   3. the end-to-end clients with the cgroupfs driver (tests/e2e: Docker
#      native.cgroupdriver=cgroupfs, containerd ctr and CRI SystemdCgroup=false,
#      podman --cgroup-manager cgroupfs).
# Every part runs even when an earlier one fails; the exit status says whether
# all passed.  Extra arguments go to run.sh (e.g. --timeout 5400; default 3600).
#   bash tests/guest/lane.sh [RUN.SH OPTIONS]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
SECONDS=0
bash "$here/image.sh" >/dev/null
echo "guest lane: image ready after ${SECONDS} s" >&2
t0=$SECONDS
rc=0
bash "$here/run.sh" --timeout 3600 "$@" -- '
    rc=0
    part() {
        local name=$1; shift
        local t=$SECONDS
        echo "=== guest lane: $name"
        "$@" || { echo "=== guest lane: $name FAILED"; rc=1; }
        echo "=== guest lane: $name took $((SECONDS - t)) s"
    }
    echo "=== guest: $(uname -r), systemd $(systemctl --version | head -1 | cut -d" " -f2),"\
        "$(stat -fc %T /sys/fs/cgroup), $(systemctl is-system-running)"
    part "guest-marked tests and tests/cgroups" \
        .venv/bin/python -m pytest -q -p no:cacheprovider -rs tests/cgroups
    part "guest-marked tests elsewhere" \
        .venv/bin/python -m pytest -q -p no:cacheprovider -rs -m guest tests \
        --ignore=tests/cgroups --ignore=tests/e2e
    part "conformance (pyrunc, runc)" \
        .venv/bin/python -m conformance --verbose --runtime .venv/bin/pyrunc --runtime /usr/sbin/runc \
        --known-failure lifecycle.delete.created
    part "clients (cgroupfs driver)" bash tests/e2e/run.sh -p no:cacheprovider -rs
    exit $rc
' || rc=$?
echo "guest lane: boot, tests and power-off took $((SECONDS - t0)) s; all ${SECONDS} s (exit $rc)" >&2
exit $rc
