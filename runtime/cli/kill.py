"""pyrunc kill: send a signal (default SIGTERM) to the container's init."""

from __future__ import annotations

from runtime.cli.flags import Flag

SUMMARY = "kill sends the specified signal (default: SIGTERM) to the container's init process"
USAGE = "[command options] <container-id> [signal]"
ARGS = (1, 2)
FLAGS = (Flag("all", "a", kind=bool, help="send the specified signal to all processes inside"
              " the container"),)


def run(ctx, opts: dict, args: list[str]) -> int:
    from runtime.lifecycle import signals
    from runtime.lifecycle.kill import kill

    sig = signals.parse(args[1] if len(args) > 1 else "SIGTERM")
    kill(ctx, args[0], sig, all_processes=opts["all"])
    return 0
