#!/usr/bin/env bash
# Build (if missing or its recipe changed) the guest image: Debian 12 with
# systemd as PID 1 and pure cgroup v2, from Debian packages alone.
#
# The image lives outside the checkout in $PYRUNC_GUEST_CACHE
# (/var/cache/pyrunc-guest) under a hash of this file (the recipe, package
# list included): rootfs.img (ext4, made with `mke2fs -d`: no loop mount),
# vmlinuz and initrd.img.  Concurrent callers wait on a lock for one build.
# Prints the image directory on stdout.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
cache=${PYRUNC_GUEST_CACHE:-/var/cache/pyrunc-guest}
suite=bookworm

# What the tests need inside the guest (docs: tests/guest/README.md).
PACKAGES=(
    # the init and its daemons
    systemd systemd-sysv dbus dbus-user-session udev kmod
    linux-image-cloud-amd64 initramfs-tools
    # pyrunc's build and tests
    python3 python3-venv python3-dev python3-pip gcc libc6-dev libseccomp-dev libcap-dev
    busybox-static runc crun
    # the clients (tests/e2e) and what they need on a Debian host
    docker.io containerd podman conmon netavark aardvark-dns golang-github-containers-common
    tini catatonit iptables apparmor fuse-overlayfs slirp4netns
    # checkpoint/restore and rootless
    criu python3-protobuf uidmap rootlesskit
    # tools the tests and the job use
    iproute2 procps psmisc util-linux mount e2fsprogs tar coreutils findutils grep sed
    less strace
)
# The services the packages enable: tests start their own daemons.
DISABLE=(docker.service docker.socket containerd.service podman.socket podman.service
    podman-restart.service podman-auto-update.timer podman-clean-transient.service
    apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer fstrim.timer
    e2scrub_reap.service man-db.timer dpkg-db-backup.timer)

recipe=$(cat "$here/image.sh" "$here/guest-job.sh" | sha256sum | cut -c1-16)
dir=$cache/images/$recipe

mirror_from_host() {
    # The Debian mirror the host's apt uses (deb822 or one-line format).
    local f uri
    for f in /etc/apt/sources.list.d/*.sources /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [ -f "$f" ] || continue
        uri=$(grep -hoE '(https?://[^ ]+/debian)/?( |$)' "$f" | grep -v security | head -1 | tr -d ' ')
        if [ -n "$uri" ]; then echo "${uri%/}"; return; fi
    done
    echo http://deb.debian.org/debian
}

security_from_host() {
    local f uri
    for f in /etc/apt/sources.list.d/*.sources /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [ -f "$f" ] || continue
        uri=$(grep -hoE 'https?://[^ ]+/debian-security/?' "$f" | head -1)
        if [ -n "$uri" ]; then echo "${uri%/}"; return; fi
    done
    echo http://deb.debian.org/debian-security
}

build() {
    local work=$1 root=$1/root mirror security t0 pkgs
    t0=$(date +%s)
    mirror=$(mirror_from_host)
    security=$(security_from_host)
    command -v debootstrap >/dev/null || {
        echo "guest image: installing debootstrap" >&2
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
    }
    echo "guest image: debootstrap $suite from $mirror" >&2
    debootstrap --variant=minbase --include=initramfs-tools,ca-certificates \
        "$suite" "$root" "$mirror" >"$work/debootstrap.log" 2>&1 ||
        { tail -30 "$work/debootstrap.log" >&2; return 1; }

    cat > "$root/etc/apt/sources.list" <<EOF
deb $mirror $suite main
deb $mirror $suite-updates main
deb $security $suite-security main
EOF
    # A small initrd: only what mounts an ext4 root from virtio-blk.
    echo "MODULES=list" > "$root/etc/initramfs-tools/conf.d/pyrunc-guest"
    printf '%s\n' virtio_pci virtio_blk ext4 crc32c_generic > "$root/etc/initramfs-tools/modules"
    # Maintainer scripts start no daemon in the chroot.
    printf '#!/bin/sh\nexit 101\n' > "$root/usr/sbin/policy-rc.d"
    chmod 755 "$root/usr/sbin/policy-rc.d"
    cp /etc/resolv.conf "$root/etc/resolv.conf"

    pkgs="${PACKAGES[*]}"
    echo "guest image: installing packages" >&2
    # A private mount namespace: the chroot's /proc goes away with it.
    unshare -m --propagation private sh -c '
        set -e
        mount -t proc proc "$1/proc"
        mount -t sysfs sysfs "$1/sys"
        chroot "$1" sh -c "apt-get update -qq &&
            DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $2"
    ' sh "$root" "$pkgs" >"$work/apt.log" 2>&1 || { tail -40 "$work/apt.log" >&2; return 1; }

    configure "$root"
    rm -f "$root/usr/sbin/policy-rc.d" "$root/etc/resolv.conf"
    rm -rf "$root/var/cache/apt/archives/"*.deb "$root/var/lib/apt/lists/"*_Packages

    cp -L "$root/vmlinuz" "$work/vmlinuz"
    cp -L "$root/initrd.img" "$work/initrd.img"
    local used
    used=$(du -sm "$root" | cut -f1)
    # Sparse: the free space costs nothing until a guest writes (and -snapshot
    # keeps those writes in a temporary overlay).
    mke2fs -q -t ext4 -L pyrunc-root -d "$root" "$work/rootfs.img" "$((used + 6144))M"
    rm -rf "$root"
    echo "guest image: built in $(( $(date +%s) - t0 )) s (${used} MB of files)" >&2
}

configure() {
    local root=$1
    echo pyrunc-guest > "$root/etc/hostname"
    printf '127.0.0.1 localhost\n127.0.1.1 pyrunc-guest\n::1 localhost\n' > "$root/etc/hosts"
    echo "LABEL=pyrunc-root / ext4 rw,errors=remount-ro 0 0" > "$root/etc/fstab"
    chroot "$root" passwd -dq root
    # The console (ttyS0) logs root in for interactive debugging (run.sh --shell).
    mkdir -p "$root/etc/systemd/system/serial-getty@ttyS0.service.d"
    cat > "$root/etc/systemd/system/serial-getty@ttyS0.service.d/autologin.conf" <<'EOF'
[Service]
ExecStart=
ExecStart=-/sbin/agetty --autologin root --keep-baud 115200,57600,38400,9600 %I $TERM
EOF
    for u in "${DISABLE[@]}"; do
        chroot "$root" systemctl disable "$u" >/dev/null 2>&1 || true
    done
    chroot "$root" systemctl mask systemd-timesyncd.service >/dev/null 2>&1 || true

    # The job: run.sh hands it in a tar on the second disk (/dev/vdb), reads its
    # output from the second serial port and its exit status from the third.
    install -m 755 "$here/guest-job.sh" "$root/usr/local/sbin/pyrunc-guest-job"
    cat > "$root/etc/systemd/system/pyrunc-guest-job.service" <<'EOF'
[Unit]
Description=pyrunc guest job (tests/guest/run.sh)
After=multi-user.target
ConditionPathExists=/dev/vdb

[Service]
Type=exec
ExecStart=/usr/local/sbin/pyrunc-guest-job
StandardOutput=journal+console
StandardError=journal+console
Delegate=yes
TimeoutStartSec=infinity

[Install]
WantedBy=multi-user.target
EOF
    chroot "$root" systemctl enable pyrunc-guest-job.service >/dev/null 2>&1
}

mkdir -p "$cache/images"
exec 9>"$cache/images/lock"
flock 9
if [ ! -f "$dir/rootfs.img" ]; then
    rm -rf "$dir.building"
    mkdir -p "$dir.building"
    build "$dir.building"
    rm -rf "$dir"
    mv "$dir.building" "$dir"
fi
# Other recipes' images nobody is using (run.sh holds a shared lock on its own).
for old in "$cache"/images/*/; do
    old=${old%/}
    [ "$old" = "$dir" ] && continue
    case "$old" in *.building) rm -rf "$old"; continue ;; esac
    ( flock -xn 8 && rm -rf "$old" ) 8>"$old.lock" 2>/dev/null && rm -f "$old.lock" || true
done
echo "$dir"
