"""A container without a mount namespace of its own (runtime-tools linux_ns_itype):
its root is still the bundle's rootfs, by chroot, as in runc.  pyrunc mounts nothing
there (the mounts would be the host's); runc 1.1.5 binds the rootfs onto itself in
the host's namespace and leaves it, which the test removes."""

from __future__ import annotations

import os
import subprocess


def _unmount_below(path: str) -> None:
    with open("/proc/self/mountinfo") as f:
        points = [line.split()[4] for line in f]
    for point in sorted((p for p in points if p.startswith(path)), reverse=True):
        subprocess.run(["umount", "-l", point], check=False)


def test_root_is_the_rootfs_without_a_mount_namespace(any_rt, bundle):
    rootfs = bundle.own_rootfs()
    with open(os.path.join(rootfs, "marker"), "w") as f:
        f.write("in the rootfs\n")
    linux = bundle.linux
    linux["namespaces"] = [n for n in linux["namespaces"] if n["type"] != "mount"]
    for key in ("maskedPaths", "readonlyPaths"):
        linux.pop(key, None)
    # runc needs /proc there (it reads /proc/self/fd); pyrunc mounts nothing.
    bundle.config["mounts"] = [{"destination": "/proc", "type": "proc", "source": "proc"}]
    bundle.process["cwd"] = "/"
    try:
        bundle.args("/bin/cat", "/marker").save()
        p = any_rt("run", "-b", bundle.path, bundle.id)
        assert p.returncode == 0, p.stderr
        assert p.stdout == "in the rootfs\n"
    finally:
        _unmount_below(bundle.path)
    assert not os.path.exists("/marker")
