#!/usr/bin/env bash
# The guest lane, from a fresh clone: build the Debian 12 systemd + cgroup v2
# guest (cached), boot it once and run there, against pyrunc (and runc where
# a test is written for both), every test marked `guest`: the v2 driver on a
# real v2 host, the systemd driver, checkpoint/restore with criu, rootless on v2.
# CI runs this.  With --full it also runs, in the same guest, tests/cgroups, the
# conformance suite (pyrunc and runc) and the end-to-end clients with the cgroupfs
# driver: under TCG that does not fit CI's 90 minutes (tests/guest/README.md).
# Every part runs even when an earlier one fails; the exit status says whether
# all passed.  Extra arguments go to run.sh (e.g. --timeout 5400; default 3600).
#   bash tests/guest/lane.sh [--full] [RUN.SH OPTIONS]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
full=""
if [ "${1:-}" = --full ]; then full=1; shift; fi
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
    part "guest-marked tests (v2 driver, systemd driver, criu, rootless on v2)" \
        .venv/bin/python -m pytest -q -p no:cacheprovider -rs -m guest tests --ignore=tests/e2e
    if [ -n "'"$full"'" ]; then
        part "tests/cgroups" .venv/bin/python -m pytest -q -p no:cacheprovider -rs tests/cgroups
        part "conformance (pyrunc, runc)" \
            .venv/bin/python -m conformance --verbose --runtime .venv/bin/pyrunc \
            --runtime /usr/sbin/runc --known-failure lifecycle.delete.created
        part "clients (cgroupfs driver)" bash tests/e2e/run.sh -p no:cacheprovider -rs
    fi
    exit $rc
' || rc=$?
echo "guest lane: boot, tests and power-off took $((SECONDS - t0)) s; all ${SECONDS} s (exit $rc)" >&2
exit $rc
