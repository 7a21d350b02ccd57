"""Build a busybox bundle from the host's busybox-static: the embedded default
that the README's first command runs, and the tests' base bundle.

    python -m runtime.demo_bundle DIR [-- ARGS...]
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

BUSYBOX = "/bin/busybox"


def make_rootfs(rootfs: str, busybox: str = BUSYBOX) -> None:
    for d in ("bin", "dev", "etc", "proc", "sys", "tmp", "root", "run"):
        os.makedirs(os.path.join(rootfs, d), exist_ok=True)
    os.chmod(os.path.join(rootfs, "tmp"), 0o1777)
    target = os.path.join(rootfs, "bin", "busybox")
    shutil.copy2(busybox, target)
    applets = subprocess.run([busybox, "--list"], capture_output=True, text=True,
                             check=True).stdout.split()
    for applet in applets:
        link = os.path.join(rootfs, "bin", applet)
        if not os.path.lexists(link):
            os.symlink("busybox", link)
    with open(os.path.join(rootfs, "etc", "passwd"), "w") as f:
        f.write("root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n")
    with open(os.path.join(rootfs, "etc", "group"), "w") as f:
        f.write("root:x:0:\nnogroup:x:65534:\n")


def make_bundle(bundle: str, args: list[str] | None = None, busybox: str = BUSYBOX) -> dict:
    from spec.defaults import default_config

    os.makedirs(bundle, exist_ok=True)
    make_rootfs(os.path.join(bundle, "rootfs"), busybox)
    config = default_config()
    config["process"]["terminal"] = False
    if args:
        config["process"]["args"] = args
    with open(os.path.join(bundle, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
    return config


if __name__ == "__main__":
    argv = sys.argv[1:]
    if not argv:
        sys.exit("usage: python -m runtime.demo_bundle DIR [-- ARGS...]")
    rest = argv[2:] if len(argv) > 1 and argv[1] == "--" else []
    make_bundle(argv[0], rest or None)
    print(argv[0])
