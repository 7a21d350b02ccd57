"""pyrunc delete: delete a stopped container (--force: kill it first)."""

from __future__ import annotations

from runtime.cli.flags import Flag

SUMMARY = "delete any resources held by the container often used with detached container"
USAGE = "[command options] <container-id>"
ARGS = (1, 1)
FLAGS = (Flag("force", "f", kind=bool, help="Forcibly deletes the container if it is still"
              " running (uses SIGKILL)"),)


def run(ctx, opts: dict, args: list[str]) -> int:
    from runtime.lifecycle.delete import delete

    delete(ctx, args[0], force=opts["force"])
    return 0
