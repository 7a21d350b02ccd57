"""pyrunc events: stats and OOM notices of a container as JSON lines."""

from __future__ import annotations

from runtime.cli.flags import Flag

SUMMARY = ("display container events such as OOM notifications, cpu, memory, and IO usage "
           "statistics")
USAGE = "[command options] <container-id>"
ARGS = (1, 1)
FLAGS = (
    Flag("interval", default="5s", help="set the stats collection interval (default: 5s)"),
    Flag("stats", kind=bool, help="display the container's stats then exit"),
)


def run(ctx, opts: dict, args: list[str]) -> int:
    from runtime.lifecycle.events import events, parse_duration

    events(ctx, args[0], parse_duration(opts["interval"]), opts["stats"])
    return 0
