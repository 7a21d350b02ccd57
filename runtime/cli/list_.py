"""pyrunc list: list the containers in --root (table or JSON)."""

from __future__ import annotations

from runtime.cli.flags import Flag, UsageError

SUMMARY = "lists containers started by pyrunc with the given root"
USAGE = "[command options]"
ARGS = (0, 0)
FLAGS = (
    Flag("format", "f", default="table", help="select one of: table or json"),
    Flag("quiet", "q", kind=bool, help="display only container IDs"),
)


def run(ctx, opts: dict, args: list[str]) -> int:
    import sys

    from runtime.lifecycle.query import list_all

    states = list_all(ctx)
    if opts["quiet"]:
        sys.stdout.write("".join(s["id"] + "\n" for s in states))
    elif opts["format"] == "json":
        from spec.jsonio import dumps

        sys.stdout.write(dumps(states or None) + "\n")
    elif opts["format"] == "table":
        rows = [("ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER")]
        rows += [(s["id"], str(s["pid"]), s["status"], s["bundle"], s["created"], s["owner"])
                 for s in states]
        widths = [max(len(r[i]) for r in rows) for i in range(6)]
        for r in rows:
            cells = (v.ljust(w) for v, w in zip(r, widths, strict=True))
            sys.stdout.write("   ".join(cells).rstrip() + "\n")
    else:
        raise UsageError(f"invalid format option: {opts['format']}")
    return 0
