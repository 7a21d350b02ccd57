"""pyrunc run: create and start a container; without -d wait for it and exit with its status."""

from __future__ import annotations

from runtime.cli.create import FLAGS as CREATE_FLAGS
from runtime.cli.flags import Flag

SUMMARY = "create and run a container"
USAGE = "[command options] <container-id>"
ARGS = (1, 1)
FLAGS = CREATE_FLAGS + (
    Flag("detach", "d", kind=bool, help="detach from the container's process"),
    Flag("keep", kind=bool, help="do not delete the container after it exits"),
    Flag("no-subreaper", kind=bool,
         help="disable the use of the subreaper used to reap reparented processes"),
)


def run(ctx, opts: dict, args: list[str]) -> int:
    from runtime.lifecycle.run import run_container

    return run_container(ctx, args[0], opts)
