"""Busybox bundles for tests: one shared busybox rootfs, one config per test."""

from __future__ import annotations

import copy
import json
import os
import shutil

from runtime.demo_bundle import make_rootfs
from spec.defaults import default_config
from tests.support import rootless

_ROOTFS_CACHE: dict[str, str] = {}


def shared_rootfs(base_dir: str) -> str:
    """A busybox rootfs built once per test session (containers mount it read-only)."""
    if base_dir not in _ROOTFS_CACHE:
        path = os.path.join(base_dir, "rootfs")
        if not os.path.isdir(path):
            make_rootfs(path)
        _ROOTFS_CACHE[base_dir] = path
    return _ROOTFS_CACHE[base_dir]


class Bundle:
    def __init__(self, path: str, rootfs: str, cgroup_parent: str, cid: str) -> None:
        self.path = path
        self.id = cid
        os.makedirs(path, exist_ok=True)
        self.config = default_config()
        self.config["root"] = {"path": rootfs, "readonly": True}
        self.config["process"]["terminal"] = False
        self.config["process"]["args"] = ["/bin/true"]
        self.config["linux"]["cgroupsPath"] = f"{cgroup_parent}/{cid}"
        if rootless.active():
            rootless.rootless_config(self.config)
        self.save()
        if rootless.active():
            rootless.give(path)
            # the user's own copy, which the container's root may write to
            self.own_rootfs()
            self.config["root"]["readonly"] = True
            self.save()

    @property
    def process(self) -> dict:
        return self.config["process"]

    @property
    def linux(self) -> dict:
        return self.config["linux"]

    def args(self, *argv: str) -> Bundle:
        self.config["process"]["args"] = list(argv)
        return self.save()

    def sh(self, script: str) -> Bundle:
        return self.args("/bin/sh", "-c", script)

    def own_rootfs(self) -> str:
        """Give this bundle a private, writable copy of the rootfs."""
        dest = os.path.join(self.path, "rootfs")
        if not os.path.isdir(dest):
            shutil.copytree(self.config["root"]["path"], dest, symlinks=True)
            if rootless.active():
                rootless.give(dest)
        self.config["root"] = {"path": "rootfs", "readonly": False}
        self.save()
        return dest

    def save(self) -> Bundle:
        if rootless.active():
            rootless.dedupe_user_namespace(self.config)
        with open(os.path.join(self.path, "config.json"), "w") as f:
            json.dump(self.config, f, indent=1)
        return self

    def copy_config(self) -> dict:
        return copy.deepcopy(self.config)
