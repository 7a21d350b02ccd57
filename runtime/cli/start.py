"""pyrunc start: execute the user process of a created container."""

from __future__ import annotations

SUMMARY = "executes the user defined process in a created container"
USAGE = "<container-id>"
ARGS = (1, 1)
FLAGS = ()


def run(ctx, opts: dict, args: list[str]) -> int:
    from runtime.lifecycle.start import start

    start(ctx, args[0])
    return 0
