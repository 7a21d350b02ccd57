"""A small flag parser with runc's (urfave/cli + Go flag) rules.

`-flag` and `--flag` are the same, values come as `--flag value` or
`--flag=value`, bool flags take an optional `=true|false`, and parsing stops
at the first positional argument or `--`.  argparse is avoided: it costs
~10 ms of imports on every container start.
"""

from __future__ import annotations

from runtime.errors import PyruncError


class UsageError(PyruncError):
    """Wrong flags or arguments."""


class Flag:
    __slots__ = ("names", "kind", "default", "help", "multi")

    def __init__(self, *names: str, kind: type = str, default: object = None, help: str = "",
                 multi: bool = False) -> None:
        self.names = names
        self.kind = kind
        self.multi = multi
        if default is None:
            default = [] if multi else (False if kind is bool else ("" if kind is str else 0))
        self.default = default
        self.help = help

    @property
    def key(self) -> str:
        return self.names[0].replace("-", "_")


_TRUE = {"1", "t", "T", "true", "TRUE", "True"}
_FALSE = {"0", "f", "F", "false", "FALSE", "False"}


def parse(flags: tuple[Flag, ...], argv: list[str]) -> tuple[dict, list[str]]:
    """Parse leading flags of argv; return (options by key, remaining arguments)."""
    by_name = {n: f for f in flags for n in f.names}
    opts: dict = {f.key: (list(f.default) if f.multi else f.default) for f in flags}
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg == "--":
            i += 1
            break
        if len(arg) < 2 or arg[0] != "-":
            break
        name = arg[2:] if arg.startswith("--") else arg[1:]
        value: str | None = None
        if "=" in name:
            name, value = name.split("=", 1)
        flag = by_name.get(name)
        if flag is None:
            raise UsageError(f"flag provided but not defined: -{name}")
        if flag.kind is bool:
            if value is None:
                opts[flag.key] = True
            elif value in _TRUE or value in _FALSE:
                opts[flag.key] = value in _TRUE
            else:
                raise UsageError(f'invalid boolean value "{value}" for -{name}')
        else:
            if value is None:
                i += 1
                if i >= len(argv):
                    raise UsageError(f"flag needs an argument: -{name}")
                value = argv[i]
            converted: object = value
            if flag.kind is int:
                try:
                    converted = int(value, 0)
                except ValueError:
                    raise UsageError(f'invalid value "{value}" for flag -{name}') from None
            if flag.multi:
                opts[flag.key].append(converted)
            else:
                opts[flag.key] = converted
        i += 1
    return opts, argv[i:]


def check_args(command: str, args: list[str], minimum: int, maximum: int | None) -> None:
    """runc's wording for a wrong number of positional arguments."""
    if maximum == minimum and len(args) != minimum:
        raise UsageError(f'pyrunc: "{command}" requires exactly {minimum} argument(s)')
    if len(args) < minimum:
        raise UsageError(f'pyrunc: "{command}" requires a minimum of {minimum} argument(s)')
    if maximum is not None and len(args) > maximum:
        raise UsageError(f'pyrunc: "{command}" requires a maximum of {maximum} argument(s)')
