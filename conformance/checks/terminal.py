"""process.terminal true: a pseudoterminal on the standard streams, /dev/console, consoleSize.

The runtime hands the pty master over --console-socket; we read what the process writes.
"""

from __future__ import annotations

from conformance.bundle import Config
from conformance.checks._common import Mutation, process
from conformance.context import Context
from conformance.registry import Level, check, expect, expect_equal
from conformance.sabotage import breaks_config

MUST = Level.MUST
PROCESS = "config.md#configProcess"
DEFAULTS = "config-linux.md#configLinuxDefaultDevices"


def _terminal(config: Config) -> None:
    process(config)["terminal"] = True


def _no_terminal(config: Config) -> None:
    process(config)["terminal"] = False


def _run_on_terminal(ctx: Context, script: str, configure: Mutation = _terminal) -> str:
    container = ctx.container(configure, ["sh", "-c", script])
    container.create()
    container.start()
    container.wait_exit()
    expect(container.console is not None, "no console socket was set up")
    console = container.console
    assert console is not None
    expect(console.error is None, console.error or "")
    return container.stdout()


@check(
    "terminal.streams",
    PROCESS,
    MUST,
    "with terminal true, stdin, stdout and stderr are a terminal",
    breaks_config("terminal is switched off", _no_terminal),
)
def streams(ctx: Context) -> None:
    out = _run_on_terminal(
        ctx, 'for fd in 0 1 2; do [ -t $fd ] && echo "$fd:tty" || echo "$fd:no"; done'
    )
    expect_equal(out.split(), ["0:tty", "1:tty", "2:tty"], "terminal test of fds 0-2")


@check(
    "terminal.console",
    DEFAULTS,
    MUST,
    "with terminal true, /dev/console is the process's pseudoterminal",
    breaks_config("terminal is switched off", _no_terminal),
)
def console(ctx: Context) -> None:
    out = _run_on_terminal(
        ctx,
        "stat -c '%F %t' /dev/console; stat -L -c %t:%T /dev/console; stat -L -c %t:%T "
        "/proc/self/fd/1",
    )
    lines = out.strip().splitlines()
    expect(len(lines) == 3, f"unexpected output: {out!r}")
    expect(lines[0].startswith("character special file"), f"/dev/console: {lines[0]}")
    expect_equal(lines[1], lines[2], "/dev/console device vs the terminal on stdout")


@check(
    "terminal.consoleSize",
    PROCESS,
    MUST,
    "consoleSize sets the terminal's rows and columns",
    breaks_config(
        "another size", lambda c: process(c).__setitem__("consoleSize", {"height": 24, "width": 80})
    ),
)
def console_size(ctx: Context) -> None:
    def configure(config: Config) -> None:
        _terminal(config)
        process(config)["consoleSize"] = {"height": 33, "width": 111}

    out = _run_on_terminal(ctx, "stty size", configure)
    expect_equal(out.strip(), "33 111", "stty size")
