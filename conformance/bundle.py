"""Bundles for the checks: a busybox root filesystem and a default config.json.

The root filesystem is built once per run from the host's static busybox (a copy in rootfs/bin
plus one symlink per applet); each bundle then gets its own copy whose busybox is a hard link,
so making a bundle costs a few hundred symlinks and no data.
"""

from __future__ import annotations

import copy
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

BUSYBOX = Path("/bin/busybox")
OCI_VERSION = "1.0.2"
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

# Where checks find their host-side results directory inside the container.
OUT_DIR = "/out"

# Capabilities a typical engine grants by default (the set Docker uses).
DEFAULT_CAPS = [
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_FSETID",
    "CAP_FOWNER",
    "CAP_MKNOD",
    "CAP_NET_RAW",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETFCAP",
    "CAP_SETPCAP",
    "CAP_NET_BIND_SERVICE",
    "CAP_SYS_CHROOT",
    "CAP_KILL",
    "CAP_AUDIT_WRITE",
]

Config = dict[str, Any]


class BundleError(Exception):
    """The host lacks what a bundle needs (no static busybox, ...)."""


def _busybox_applets() -> list[str]:
    if not BUSYBOX.is_file():
        raise BundleError(f"{BUSYBOX} is missing: install busybox-static")
    proc = subprocess.run([str(BUSYBOX), "--list"], capture_output=True, text=True, check=False)
    applets = [name for name in proc.stdout.split() if name and "/" not in name]
    if proc.returncode != 0 or "sh" not in applets:
        raise BundleError(f"{BUSYBOX} does not list its applets; is it a busybox binary?")
    return [name for name in applets if name != "busybox"]


def build_rootfs_template(dest: Path) -> Path:
    """Make a minimal busybox root filesystem at ``dest``."""
    # Mount points exist up front: a runtime in a user namespace may not create them.
    for sub in ("bin", "dev", "etc", "proc", "sys", "tmp", "root", "home", "mnt", "var/tmp", "out"):
        (dest / sub).mkdir(parents=True, exist_ok=True)
    os.chmod(dest / "tmp", 0o1777)
    shutil.copy2(BUSYBOX, dest / "bin" / "busybox")
    os.chmod(dest / "bin" / "busybox", 0o755)
    for applet in _busybox_applets():
        link = dest / "bin" / applet
        if not link.exists():
            link.symlink_to("busybox")
    (dest / "etc" / "passwd").write_text(
        "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n"
    )
    (dest / "etc" / "group").write_text("root:x:0:\ntty:x:5:\nnogroup:x:65534:\n")
    (dest / "etc" / "hostname").write_text("conformance\n")
    return dest


def clone_rootfs(template: Path, dest: Path) -> None:
    """Copy the template; regular files become hard links (they are never modified)."""
    shutil.copytree(template, dest, symlinks=True, copy_function=os.link)


def default_config(container_id: str, cgroups_parent: str, out_source: str) -> Config:
    """Our default config: what a typical engine would hand a runtime, plus an /out bind mount.

    ``out_source`` is the host directory the container writes its findings to.
    """
    caps = list(DEFAULT_CAPS)
    return {
        "ociVersion": OCI_VERSION,
        "process": {
            "terminal": False,
            "user": {"uid": 0, "gid": 0},
            "args": ["sh", "-c", "true"],
            "env": [f"PATH={DEFAULT_PATH}", "HOME=/root"],
            "cwd": "/",
            "capabilities": {
                "bounding": list(caps),
                "effective": list(caps),
                "permitted": list(caps),
            },
            "noNewPrivileges": False,
        },
        "root": {"path": "rootfs", "readonly": False},
        "hostname": "conformance",
        "mounts": [
            {"destination": "/proc", "type": "proc", "source": "proc"},
            {
                "destination": "/dev",
                "type": "tmpfs",
                "source": "tmpfs",
                "options": ["nosuid", "strictatime", "mode=755", "size=65536k"],
            },
            {
                "destination": "/dev/pts",
                "type": "devpts",
                "source": "devpts",
                "options": [
                    "nosuid",
                    "noexec",
                    "newinstance",
                    "ptmxmode=0666",
                    "mode=0620",
                    "gid=5",
                ],
            },
            {
                "destination": "/dev/shm",
                "type": "tmpfs",
                "source": "shm",
                "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"],
            },
            {
                "destination": "/dev/mqueue",
                "type": "mqueue",
                "source": "mqueue",
                "options": ["nosuid", "noexec", "nodev"],
            },
            {
                "destination": "/sys",
                "type": "sysfs",
                "source": "sysfs",
                "options": ["nosuid", "noexec", "nodev", "ro"],
            },
            {
                "destination": OUT_DIR,
                "type": "bind",
                "source": out_source,
                "options": ["rbind", "rw"],
            },
        ],
        "linux": {
            "cgroupsPath": f"{cgroups_parent}/{container_id}",
            "resources": {"devices": [{"allow": False, "access": "rwm"}]},
            "namespaces": [
                {"type": "pid"},
                {"type": "network"},
                {"type": "ipc"},
                {"type": "uts"},
                {"type": "mount"},
            ],
            "maskedPaths": ["/proc/kcore", "/proc/keys", "/proc/timer_list"],
            "readonlyPaths": [
                "/proc/bus",
                "/proc/fs",
                "/proc/irq",
                "/proc/sys",
                "/proc/sysrq-trigger",
            ],
        },
    }


def write_config(bundle: Path, config: Config) -> None:
    (bundle / "config.json").write_text(json.dumps(config, indent=2) + "\n")


def read_config(bundle: Path) -> Config:
    return json.loads((bundle / "config.json").read_text())


def clone_config(config: Config) -> Config:
    return copy.deepcopy(config)
