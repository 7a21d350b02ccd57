"""pyrunc's command line, compatible with runc's.

main() parses the global flags, then hands the rest to runtime/cli/<command>.py:
each command module declares FLAGS, ARGS (min, max positional arguments),
SUMMARY and USAGE, and a run(ctx, opts, args) that only calls the library.
Command modules are imported on demand so that a command pays only for itself.
"""

from __future__ import annotations

import sys

from runtime.cli.flags import Flag, UsageError, check_args, parse

GLOBAL_FLAGS = (
    Flag("debug", kind=bool, help="enable debug logging"),
    Flag("log", help="set the log file to write pyrunc logs to (default is '/dev/stderr')"),
    Flag("log-format", default="text", help="set the log format ('text' (default), or 'json')"),
    Flag("root", help="root directory for storage of container state; $XDG_RUNTIME_DIR/pyrunc "
         "for an unprivileged user (default: \"/run/pyrunc\")"),
    Flag("criu", help="path to the criu binary used for checkpoint and restore (default: criu)"),
    Flag("systemd-cgroup", kind=bool, help="enable systemd cgroup support"),
    Flag("rootless", default="auto", help="ignore cgroup permission errors"),
    Flag("help", "h", kind=bool, help="show help"),
    Flag("version", "v", kind=bool, help="print the version"),
)

# command name -> module under runtime.cli
COMMANDS = {
    "create": "create",
    "start": "start",
    "run": "run",
    "state": "state",
    "kill": "kill",
    "delete": "delete",
    "list": "list_",
    "spec": "spec",
    "exec": "exec_",
    "ps": "ps",
    "pause": "pause",
    "resume": "resume",
    "update": "update",
    "events": "events",
    "features": "features",
    "checkpoint": "checkpoint",
    "restore": "restore",
}

def _load(name: str):
    module = COMMANDS.get(name)
    if module is None:
        return None
    __import__(f"runtime.cli.{module}")
    return sys.modules[f"runtime.cli.{module}"]


def _help(cmd_name: str | None = None) -> str:
    if cmd_name:
        mod = _load(cmd_name)
        lines = [f"NAME:\n   pyrunc {cmd_name} - {mod.SUMMARY}\n",
                 f"USAGE:\n   pyrunc {cmd_name} {mod.USAGE}\n", "OPTIONS:"]
        flags = mod.FLAGS
    else:
        lines = ["NAME:\n   pyrunc - Open Container Initiative runtime, in Python\n",
                 "USAGE:\n   pyrunc [global options] command [command options] [arguments...]\n",
                 "COMMANDS:"]
        for name in COMMANDS:
            mod = _load(name)
            if mod is not None:
                lines.append(f"   {name:<11} {mod.SUMMARY}")
        lines.append("\nGLOBAL OPTIONS:")
        flags = GLOBAL_FLAGS
    for f in flags:
        names = ", ".join(("--" if len(n) > 1 else "-") + n for n in f.names)
        value = "" if f.kind is bool else " value"
        lines.append(f"   {names + value:<28} {f.help}")
    return "\n".join(lines) + "\n"


def _version() -> str:
    from runtime import SPEC_VERSION, VERSION
    from runtime.version import commit, libseccomp_version

    return (f"pyrunc version {VERSION}\ncommit: {commit()}\nspec: {SPEC_VERSION}\n"
            f"python: {sys.version.split()[0]}\nlibseccomp: {libseccomp_version()}\n")


def main(argv: list[str] | None = None) -> int:
    import runtime.log as logmod
    from runtime.errors import PyruncError
    from runtime.log import Logger

    argv = sys.argv[1:] if argv is None else argv
    try:
        gopts, rest = parse(GLOBAL_FLAGS, argv)
    except UsageError as e:
        logmod.log.error(str(e))
        return 1
    logmod.log = Logger(gopts["log"], gopts["log_format"], gopts["debug"])
    if gopts["log"]:
        # As runc: a log file that cannot be opened fails the command before it starts.
        import os

        try:
            os.close(os.open(gopts["log"], os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC,
                             0o644))
        except OSError as e:
            logmod.log.path = ""
            logmod.log.error(f"open {gopts['log']}: {e.strerror.lower()}")
            return 1
    if gopts["version"]:
        sys.stdout.write(_version())
        return 0
    if not rest or gopts["help"] or rest[0] in ("help", "h"):
        target = rest[1] if len(rest) > 1 and rest[0] in ("help", "h") else None
        sys.stdout.write(_help(target if target and _load(target) else None))
        return 0
    name, rest = rest[0], rest[1:]
    if gopts["debug"]:
        from runtime.debug import Timeline

        logmod.trace = Timeline(name)
    mod = _load(name)
    if mod is None:
        logmod.log.error(f"No help topic for '{name}'")
        return 3
    from runtime.cli.context import Context

    try:
        opts, args = parse(mod.FLAGS + (Flag("help", "h", kind=bool),), rest)
        if opts.pop("help"):
            sys.stdout.write(_help(name))
            return 0
        check_args(name, args, *mod.ARGS)
        return mod.run(Context(gopts), opts, args) or 0
    except PyruncError as e:
        logmod.log.error(str(e))
        return 1
    except KeyboardInterrupt:
        return 130
    except Exception as e:  # noqa: BLE001 - a bug: still one line, details with --debug
        if gopts["debug"]:
            import traceback

            logmod.log.debug(traceback.format_exc())
        logmod.log.error(f"internal error: {type(e).__name__}: {e}")
        return 1


def entry() -> None:
    """The command's entry point: main(), then out without the interpreter's teardown
    (~2 ms of module and object cleanup on every command).  Nothing of ours needs
    it: no atexit handlers, no threads left, every file written with os.write or
    closed; only Python's own stdio buffers are flushed here."""
    import os

    code = main()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass  # a reader that went away: nothing left to tell it
    os._exit(code)


if __name__ == "__main__":
    entry()
