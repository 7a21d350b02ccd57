#!/usr/bin/env bash
# The guest lane, from a fresh clone: build the Debian 12 systemd + cgroup v2
# guest (cached), boot it once and run there, against pyrunc (and runc where
# a test is written for both), every test marked `guest`: the v2 driver on a
# real v2 host, the systemd driver, checkpoint/restore with criu, rootless on v2;
# then the end-to-end clients' core scenarios (E2E_CI below) with the systemd
# driver, the clients' default there.  CI runs this.  With --full it also runs,
# in the same guest, tests/cgroups, the conformance suite (pyrunc and runc) and
# every end-to-end client test with the systemd driver and with the cgroupfs
# driver: under TCG that does not fit CI's 90 minutes (tests/guest/README.md).
# Every part runs even when an earlier one fails; the exit status says whether
# all passed.  Extra arguments go to run.sh (e.g. --timeout 5400; default 3600).
#   bash tests/guest/lane.sh [--full] [RUN.SH OPTIONS]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
full=""
if [ "${1:-}" = --full ]; then full=1; shift; fi
# The client scenarios CI runs in the guest with the systemd driver: each client's
# driver check (docker info, the scope, nothing left after removal), a run with
# output and exit code, exec, limits and their update, pause; the CRI pod in a
# kubepods slice; ctr's delete.  Times: tests/guest/README.md.
E2E_CI="not rootless and (test_cgroup_driver or test_cgroup_manager or test_run_rm_output_and_exit_code \
or test_detached_then_exec or test_limits_at_run or test_update or test_pause_unpause \
or test_run_rm_exit_code or test_delete or test_pod_with_container or test_run_output_and_exit_code)"
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
    if [ -z "'"$full"'" ]; then
        PYRUNC_E2E_CGROUP_DRIVER=systemd part "clients, core scenarios (systemd driver)" \
            bash tests/e2e/run.sh -p no:cacheprovider -rs --durations=10 -k "'"$E2E_CI"'"
    else
        part "tests/cgroups" .venv/bin/python -m pytest -q -p no:cacheprovider -rs tests/cgroups
        part "conformance (pyrunc, runc)" \
            .venv/bin/python -m conformance --verbose --runtime .venv/bin/pyrunc \
            --runtime /usr/sbin/runc --known-failure lifecycle.delete.created
        PYRUNC_E2E_CGROUP_DRIVER=systemd part "clients (systemd driver)" \
            bash tests/e2e/run.sh -p no:cacheprovider -rs --durations=10
        PYRUNC_E2E_CGROUP_DRIVER=cgroupfs part "clients (cgroupfs driver)" \
            bash tests/e2e/run.sh -p no:cacheprovider -rs --durations=10
    fi
    exit $rc
' || rc=$?
echo "guest lane: boot, tests and power-off took $((SECONDS - t0)) s; all ${SECONDS} s (exit $rc)" >&2
exit $rc
