"""pyrunc resume: thaw a paused container."""

from __future__ import annotations

SUMMARY = "resumes all processes that have been previously paused"
USAGE = "<container-id>"
ARGS = (1, 1)
FLAGS = ()


def run(ctx, opts: dict, args: list[str]) -> int:
    from runtime.lifecycle.resume import resume

    if ctx.rootless_cgroups:
        import runtime.log as logmod

        logmod.log.warning("pyrunc resume may fail if you don't have the full access to "
                           "cgroups")
    resume(ctx, args[0])
    return 0
