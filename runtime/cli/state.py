"""pyrunc state: print the state of a container as JSON."""

from __future__ import annotations

SUMMARY = "output the state of a container"
USAGE = "<container-id>"
ARGS = (1, 1)
FLAGS = ()


def run(ctx, opts: dict, args: list[str]) -> int:
    import sys

    from runtime.lifecycle.query import state
    from spec.jsonio import dumps_indent

    sys.stdout.write(dumps_indent(state(ctx, args[0])) + "\n")
    return 0
