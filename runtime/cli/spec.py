"""pyrunc spec: write a default config.json (the same as runc spec)."""

from __future__ import annotations

from runtime.cli.flags import Flag

SUMMARY = "create a new specification file"
USAGE = "[command options]"
ARGS = (0, 0)
FLAGS = (
    Flag("bundle", "b", help="path to the root of the bundle directory"),
    Flag("rootless", kind=bool, help="generate a configuration for a rootless container"),
)


def run(ctx, opts: dict, args: list[str]) -> int:
    import json
    import os

    from runtime.errors import PyruncError
    from spec.defaults import default_config

    path = os.path.join(opts["bundle"] or ".", "config.json")
    if os.path.exists(path):
        raise PyruncError("File config.json exists. Remove it first.")
    try:
        with open(path, "w") as f:
            # runc's IsCgroup2UnifiedMode: cgroup2 mounted at /sys/fs/cgroup
            unified = os.path.exists("/sys/fs/cgroup/cgroup.controllers")
            json.dump(default_config(rootless=opts["rootless"], cgroupns=unified), f,
                      indent="\t")
    except OSError as e:
        raise PyruncError(f"write {path}: {e.strerror}") from None
    return 0
