"""pyrunc state: print the state of a container as JSON."""

from __future__ import annotations

SUMMARY = "output the state of a container"
USAGE = "<container-id>"
ARGS = (1, 1)
FLAGS = ()


def run(ctx, opts: dict, args: list[str]) -> int:
    import json
    import sys

    from runtime.lifecycle.query import state

    sys.stdout.write(json.dumps(state(ctx, args[0]), indent=2) + "\n")
    return 0
