"""pyrunc features: print the runtime-spec Features structure (as `runc features`)."""

from __future__ import annotations

SUMMARY = "show the enabled features"
USAGE = ""
ARGS = (0, 0)
FLAGS = ()


def run(ctx, opts: dict, args: list[str]) -> int:
    import json
    import sys

    from runtime.features import features

    sys.stdout.write(json.dumps(features(), indent=4) + "\n")
    return 0
