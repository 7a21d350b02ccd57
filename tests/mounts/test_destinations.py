"""Mount destinations missing from the rootfs are created in it (csrc/mounts.c's
mkdir -p in the root): one whose parent exists (one mkdirat there), a deeper chain
(every component from the root) and one that exists already (one lookup), for
pyrunc and runc alike."""

from __future__ import annotations

import os

MOUNTS = ("/tmp/one-level", "/new/two/levels", "/root")


def test_missing_destinations_are_created(any_rt, bundle):
    rootfs = bundle.own_rootfs()
    for dest in MOUNTS[:2]:
        bundle.config["mounts"].append({"destination": dest, "type": "tmpfs",
                                        "source": "tmpfs", "options": ["nosuid"]})
    bundle.sh("for d in /tmp/one-level /new/two/levels; do "
              "grep -q \" $d tmpfs \" /proc/mounts && echo $d; done")
    p = any_rt("run", "-b", bundle.path, bundle.id)
    assert p.returncode == 0, p.stderr
    assert p.stdout.split() == list(MOUNTS[:2])
    for dest in MOUNTS[:2]:
        assert os.path.isdir(os.path.join(rootfs, dest.lstrip("/"))), dest


def test_an_existing_destination_is_used_as_it_is(any_rt, bundle):
    bundle.own_rootfs()
    bundle.config["mounts"].append({"destination": MOUNTS[2], "type": "tmpfs",
                                    "source": "tmpfs", "options": ["nosuid"]})
    bundle.sh(f"grep -c ' {MOUNTS[2]} tmpfs ' /proc/mounts")
    p = any_rt("run", "-b", bundle.path, bundle.id)
    assert p.returncode == 0, p.stderr
    assert p.stdout.split() == ["1"]
