"""pyrunc ps: the processes of a container (ps(1) table, or JSON pids)."""

from __future__ import annotations

from runtime.cli.flags import Flag

SUMMARY = "ps displays the processes running inside a container"
USAGE = "[command options] <container-id> [ps options]"
ARGS = (1, None)
FLAGS = (Flag("format", "f", default="table", help="select one of: table or json (default: "
              "\"table\")"),)


def run(ctx, opts: dict, args: list[str]) -> int:
    import sys

    from runtime.errors import PyruncError
    from runtime.lifecycle.ps import processes, ps_table

    if opts["format"] not in ("table", "json"):
        raise PyruncError("invalid format option")
    if ctx.rootless_cgroups:
        import runtime.log as logmod

        logmod.log.warning("pyrunc ps may fail if you don't have the full access to cgroups")
    pids = processes(ctx, args[0])
    if opts["format"] == "json":
        from spec.jsonio import dumps

        sys.stdout.write(dumps(pids) + "\n")
        return 0
    sys.stdout.write(ps_table(pids or [], args[1:]))
    return 0
