"""pyrunc pause: freeze all processes of a container."""

from __future__ import annotations

SUMMARY = "pause suspends all processes inside the container"
USAGE = "<container-id>"
ARGS = (1, 1)
FLAGS = ()


def run(ctx, opts: dict, args: list[str]) -> int:
    from runtime.lifecycle.pause import pause

    if ctx.rootless_cgroups:
        import runtime.log as logmod

        logmod.log.warning("pyrunc pause may fail if you don't have the full access to cgroups")
    pause(ctx, args[0])
    return 0
