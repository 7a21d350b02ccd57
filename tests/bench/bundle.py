"""One busybox rootfs shared by every container, and a small bundle directory per container.

A bundle of its own per container (config.json only, root.path absolute) lets
containers be created in parallel, each with its own cgroup under the bench's
parent, without rewriting one config.json between calls.
"""

from __future__ import annotations

import json
import os
import sys

from tests.bench.host import REPO
from tests.bench.layout import Layout

TRUE = ["/bin/true"]
SLEEP = ["/bin/sleep", "3600"]


class Bundles:
    def __init__(self, base: str, layout: Layout) -> None:
        sys.path.insert(0, REPO)
        from runtime.demo_bundle import make_rootfs
        from spec.defaults import default_config

        self.base = base
        self.layout = layout
        self.rootfs = os.path.join(base, "rootfs")
        make_rootfs(self.rootfs)
        cfg = default_config()
        cfg["process"]["terminal"] = False
        cfg["ociVersion"] = "1.0.2"  # crun 1.8.1 refuses versions newer than it knows
        cfg["root"] = {"path": self.rootfs, "readonly": False}
        self.template = cfg

    def make(self, runtime: str, cid: str, args: list[str] = TRUE,
             memory_limit: int | None = None) -> str:
        """Write <base>/bundles/<runtime>/<cid>/config.json; return the bundle directory."""
        bundle = os.path.join(self.base, "bundles", runtime, cid)
        os.makedirs(bundle, exist_ok=True)
        cfg = json.loads(json.dumps(self.template))
        cfg["process"]["args"] = list(args)
        cfg["linux"]["cgroupsPath"] = self.layout.cgroups_path(runtime, cid)
        if memory_limit is not None:
            cfg["linux"].setdefault("resources", {})["memory"] = {"limit": memory_limit}
        with open(os.path.join(bundle, "config.json"), "w") as f:
            json.dump(cfg, f)
        return bundle

    def cgroup(self, runtime: str, cid: str, controller: str) -> str:
        """The container's cgroup directory (in the controller's hierarchy on v1)."""
        return self.layout.directory(runtime, cid, controller)
