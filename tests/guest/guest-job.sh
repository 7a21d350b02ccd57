#!/bin/bash
# Baked into the guest image as /usr/local/sbin/pyrunc-guest-job and run by
# pyrunc-guest-job.service once the boot is done.  The second disk (/dev/vdb)
# is a tar from run.sh: job/run (the script), pyrunc/ (the checkout), wheels/.
# The job's output goes to the second serial port, its exit status to the
# third; then the guest powers off, whatever happened.
set -u
out=/dev/ttyS1
status=/dev/ttyS2
finish() {
    echo "$1" > "$status"
    sync
    systemctl poweroff --force --force
}
trap 'finish 125' EXIT
stty -F "$out" raw -echo 2>/dev/null
stty -F "$status" raw -echo 2>/dev/null

mkdir -p /work
if ! tar -xf /dev/vdb -C /work; then
    echo "guest: cannot unpack the payload disk" > "$out"
    exit 1
fi
# The boot is over (running, or degraded: the job says which it sees).
timeout 300 systemctl is-system-running --wait >/dev/null 2>&1
rc=0
bash /work/job/run > "$out" 2>&1 < /dev/null || rc=$?
trap - EXIT
finish "$rc"
