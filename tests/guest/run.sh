#!/usr/bin/env bash
# Boot the guest (Debian 12, systemd, cgroup v2: image.sh), run a command in a
# copy of the checkout there as root, print its output, exit with its status.
#
#   bash tests/guest/run.sh [--checkout DIR] [--cgroup unified|legacy]
#        [--timeout SECONDS] [--mem MB] [--smp N] [--no-setup] [--append ARGS] -- CMD...
#
# In:  a raw tar disk (/dev/vdb): the checkout (tracked and untracked files,
#      not what git ignores), a wheelhouse of pyrunc's Python dependencies
#      built here with Debian's python3 (the guest's), and the job script.
# Out: the second serial port (the job's output, streamed here as it comes)
#      and the third (its exit status).  The guest has no network.
# The root disk is opened with snapshot=on: the cached image stays clean and
# several guests can share it.  The guest powers itself off after the job;
# on a timeout qemu is killed by its pid.  Exit status: the command's; 124 on
# a timeout; 125 when the guest brought no status back.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
checkout=$(cd "$here/../.." && pwd)
cgroup=unified
timeout_s=3600
mem=2048
smp=2
setup=1
append=""
while [ $# -gt 0 ]; do
    case "$1" in
        --checkout) checkout=$(cd "$2" && pwd); shift 2 ;;
        --cgroup) cgroup=$2; shift 2 ;;
        --timeout) timeout_s=$2; shift 2 ;;
        --mem) mem=$2; shift 2 ;;
        --smp) smp=$2; shift 2 ;;
        --no-setup) setup=""; shift ;;
        --append) append="$append $2"; shift 2 ;;
        --) shift; break ;;
        *) echo "usage: $0 [--checkout DIR] [--cgroup unified|legacy] [--timeout S] [--mem MB] [--smp N] [--no-setup] [--append ARGS] -- CMD..." >&2
           exit 2 ;;
    esac
done
[ $# -gt 0 ] || { echo "run.sh: no command (after --)" >&2; exit 2; }
case "$cgroup" in
    unified) append="systemd.unified_cgroup_hierarchy=1 $append" ;;
    legacy) append="systemd.unified_cgroup_hierarchy=0 $append" ;;
    *) echo "run.sh: --cgroup is unified or legacy" >&2; exit 2 ;;
esac
if [ "$(id -u)" != 0 ]; then
    echo "run.sh: needs root (the image build uses debootstrap and chroot)" >&2
    exit 1
fi
command -v qemu-system-x86_64 >/dev/null || {
    echo "guest: installing qemu-system-x86" >&2
    apt-get update -qq &&
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
            qemu-system-x86 >/dev/null
}

image=$(bash "$here/image.sh")
wheels=$(bash "$here/wheels.sh" "$checkout")

tmp=$(mktemp -d "${TMPDIR:-/var/tmp}/pyrunc-guest.XXXXXX")
qemu_pid=""
cleanup() {
    if [ -n "$qemu_pid" ] && kill -0 "$qemu_pid" 2>/dev/null; then
        kill -KILL "$qemu_pid" 2>/dev/null || true
        wait "$qemu_pid" 2>/dev/null || true
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# The payload: pyrunc/ (the checkout, set up here by prepare.sh: .venv, the C
# extension), wheels/ (for what a test installs with pip), job/run.
mkdir -p "$tmp/job"
{
    echo 'export HOME=/root LANG=C.UTF-8 PYRUNC_IN_GUEST=1 TERM=dumb PY_COLORS=0 NO_COLOR=1'
    echo 'export PIP_NO_INDEX=1 PIP_FIND_LINKS=/work/wheels PIP_DISABLE_PIP_VERSION_CHECK=1'
    echo 'export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
    echo 'cd /work/pyrunc'
    if [ -n "$setup" ]; then
        # Checks the packages and the launcher; pip has nothing left to do.
        echo 'SECONDS=0'
        echo 'bash tests/setup.sh || exit'
        echo 'echo "guest: set-up took $SECONDS s" >&2'
    fi
    printf 'exec bash -c %q\n' "$*"
} > "$tmp/job/run"
bash "$here/prepare.sh" "$checkout" "$wheels" "$tmp/payload.tar"
tar -rf "$tmp/payload.tar" -C "$(dirname "$wheels")" --transform "s,^$(basename "$wheels"),wheels," \
    "$(basename "$wheels")"
tar -rf "$tmp/payload.tar" -C "$tmp" job

accel=(-accel tcg,thread=multi,tb-size=256 -cpu max)
if { [ -d /sys/module/kvm_intel ] || [ -d /sys/module/kvm_amd ]; } && [ -w /dev/kvm ]; then
    accel=(-accel kvm -cpu host)
fi

# Hold the image: image.sh removes only images nobody holds.
exec 8>"$image.lock"
flock -s 8
[ -f "$image/rootfs.img" ] || { echo "guest: image $image vanished" >&2; exit 125; }

: > "$tmp/out"
: > "$tmp/status"
t0=$(date +%s)
qemu-system-x86_64 -nodefaults -no-user-config -display none -no-reboot \
    "${accel[@]}" -smp "$smp" -m "$mem" \
    -kernel "$image/vmlinuz" -initrd "$image/initrd.img" \
    -append "root=/dev/vda rw console=ttyS0 panic=-1 fsck.mode=skip quiet $append" \
    -drive "file=$image/rootfs.img,format=raw,if=none,id=root,snapshot=on" \
    -device virtio-blk-pci,drive=root \
    -drive "file=$tmp/payload.tar,format=raw,if=none,id=payload,readonly=on" \
    -device virtio-blk-pci,drive=payload \
    -device virtio-rng-pci \
    -serial "file:$tmp/console" -serial "file:$tmp/out" -serial "file:$tmp/status" \
    </dev/null >"$tmp/qemu.log" 2>&1 &
qemu_pid=$!

# Stream the output until qemu exits; when the time is up, kill qemu by its pid.
timeout "$timeout_s" tail -n +1 -s 0.5 -f --pid="$qemu_pid" "$tmp/out" &
trc=0
wait $! || trc=$?
if [ "$trc" = 124 ]; then
    kill -KILL "$qemu_pid" 2>/dev/null || true
    : > "$tmp/timed-out"
fi
qrc=0
wait "$qemu_pid" || qrc=$?
qemu_pid=""
elapsed=$(( $(date +%s) - t0 ))

rc=$(tr -dc '0-9' < "$tmp/status")
if [ -e "$tmp/timed-out" ]; then
    echo "guest: timed out after ${timeout_s} s; the console's last lines:" >&2
    tail -n 40 "$tmp/console" >&2
    exit 124
fi
if [ -z "$rc" ]; then
    echo "guest: no exit status came back (qemu exited $qrc after ${elapsed} s); the console's last lines:" >&2
    tail -n 40 "$tmp/console" "$tmp/qemu.log" >&2
    exit 125
fi
echo "guest: exit status $rc after ${elapsed} s (boot to power-off)" >&2
exit "$rc"
