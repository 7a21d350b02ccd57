"""Sabotage: how to break a working runtime so that a given check must fail.

Every check declares one. ``python -m conformance.sabotage --check ID --runtime REAL -- ARGS``
behaves like the runtime ``REAL`` called with ``ARGS`` except that it applies the check's
sabotage: it corrupts the bundle's config.json before ``create``/``run``, lies in ``state``,
reports failed commands as successes, skips commands, runs extra commands around one, hands the
container extra file descriptors, or re-reads config.json at ``start``. Pointing the suite at a
script that execs this wrapper must turn the check's result into a failure; the tests prove that
for every check, and an operator can do the same to see the suite notice a broken runtime.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

Config = dict[str, Any]
# A config mutation gets the config and the bundle directory it belongs to.
ConfigMutation = Callable[[Config, Path], None]
# A state mutation edits the state in place, or returns the exact text to print instead.
StateMutation = Callable[[dict[str, Any]], "str | None"]

# runc's global options that take a value; the command is the first other word.
_GLOBAL_OPTIONS_WITH_VALUE = {"--root", "--log", "--log-format", "--criu"}


@dataclass(frozen=True)
class Extra:
    """Run ``args`` through the real runtime before/after ``command``.

    The container id replaces an ``{id}`` word in ``args``, or else goes last.
    """

    when: str  # "before" or "after"
    command: str
    args: tuple[str, ...]


@dataclass(frozen=True)
class Sabotage:
    description: str
    config: ConfigMutation | None = None
    state: StateMutation | None = None
    succeed: frozenset[str] = frozenset()
    skip: frozenset[str] = frozenset()
    extra: tuple[Extra, ...] = ()
    leak_fds: int = 0
    recreate_on_start: bool = False


def breaks_config(description: str, mutation: Callable[[Config], None]) -> Sabotage:
    """Corrupt config.json in the bundle before the real runtime creates the container."""
    return Sabotage(description, config=lambda config, _bundle: mutation(config))


def breaks_bundle(description: str, mutation: ConfigMutation) -> Sabotage:
    """Like breaks_config, for mutations that need the bundle directory too."""
    return Sabotage(description, config=mutation)


def lies_in_state(description: str, mutation: StateMutation) -> Sabotage:
    """Report a modified state."""
    return Sabotage(description, state=mutation)


def hides_failure(description: str, *commands: str) -> Sabotage:
    """Exit 0 from these commands even when the real runtime fails them."""
    return Sabotage(description, succeed=frozenset(commands))


def ignores(description: str, *commands: str) -> Sabotage:
    """Do not pass these commands on at all; just exit 0."""
    return Sabotage(description, skip=frozenset(commands))


def runs_before(description: str, command: str, *args: str) -> Sabotage:
    """Before ``command``, also run ``args <id>`` (e.g. a destructive ``kill KILL``)."""
    return Sabotage(description, extra=(Extra("before", command, args),))


def runs_after(description: str, command: str, *args: str) -> Sabotage:
    """After ``command``, also run ``args <id>``."""
    return Sabotage(description, extra=(Extra("after", command, args),))


def leaks_fds(description: str, count: int) -> Sabotage:
    """Hand ``count`` extra open file descriptors to the container process."""
    return Sabotage(description, leak_fds=count)


def rereads_config(description: str) -> Sabotage:
    """At ``start``, throw the container away and create it again from config.json as it is now."""
    return Sabotage(description, recreate_on_start=True)


@dataclass(frozen=True)
class Invocation:
    """The parts of a runc-style command line the sabotage needs."""

    argv: list[str]
    command: str | None
    command_index: int
    bundle: Path | None
    container_id: str | None

    @property
    def global_args(self) -> list[str]:
        return self.argv[: self.command_index]


def parse_invocation(argv: list[str], cwd: Path) -> Invocation:
    i = 0
    while i < len(argv):
        word = argv[i]
        if word in _GLOBAL_OPTIONS_WITH_VALUE:
            i += 2
            continue
        if word.startswith("-"):
            i += 1
            continue
        break
    if i >= len(argv):
        return Invocation(argv, None, len(argv), None, None)
    command = argv[i]
    rest = argv[i + 1 :]
    bundle: Path | None = None
    if command in ("create", "run"):
        bundle = cwd
        for j, word in enumerate(rest):
            if word in ("--bundle", "-b") and j + 1 < len(rest):
                bundle = cwd / rest[j + 1]
            elif word.startswith("--bundle="):
                bundle = cwd / word.split("=", 1)[1]
    # Our callers put the container id last; a command without operands has none.
    container_id = rest[-1] if rest and not rest[-1].startswith("-") else None
    if command == "kill" and len(rest) >= 2 and not rest[-2].startswith("-"):
        container_id = rest[-2]
    return Invocation(argv, command, i, bundle, container_id)


def _corrupt_config(bundle: Path, mutation: ConfigMutation) -> None:
    path = bundle / "config.json"
    try:
        config = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return  # nothing to corrupt; the real runtime will complain on its own
    mutation(config, bundle.resolve())
    path.write_text(json.dumps(config, indent=2))


def _run_extra(real: str, inv: Invocation, extra: Extra) -> None:
    if inv.container_id is None:
        return
    args = list(extra.args)
    if "{id}" in args:
        args = [inv.container_id if a == "{id}" else a for a in args]
    else:
        args.append(inv.container_id)
    argv = [real, *inv.global_args, *args]
    subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, check=False)


def _recreate(real: str, inv: Invocation) -> None:
    """Delete the created container and create it again from its bundle's current config."""
    if inv.container_id is None:
        return
    glob = [real, *inv.global_args]
    proc = subprocess.run([*glob, "state", inv.container_id], capture_output=True, check=False)
    try:
        bundle = json.loads(proc.stdout)["bundle"]
    except (json.JSONDecodeError, KeyError, TypeError):
        return
    subprocess.run([*glob, "delete", "--force", inv.container_id], capture_output=True)
    subprocess.run(
        [*glob, "create", "--bundle", bundle, inv.container_id],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        check=False,
    )


def _leak(argv: list[str], inv: Invocation, count: int) -> tuple[list[str], tuple[int, ...]]:
    """Open ``count`` fds as 3.. and tell the runtime to pass them on (runc's --preserve-fds)."""
    wanted = tuple(range(3, 3 + count))
    for fd in wanted:
        opened = os.open("/dev/null", os.O_RDONLY)
        if opened != fd:
            os.dup2(opened, fd)
            os.close(opened)
    pos = inv.command_index + 1
    return [*argv[:pos], "--preserve-fds", str(count), *argv[pos:]], wanted


def run_sabotaged(sabotage: Sabotage, real: str, argv: list[str]) -> int:
    """Run the real runtime with ``argv`` under ``sabotage``; return the exit code to use."""
    inv = parse_invocation(argv, Path.cwd())
    if inv.command in sabotage.skip:
        return 0
    if sabotage.config is not None and inv.bundle is not None:
        _corrupt_config(inv.bundle, sabotage.config)
    if sabotage.recreate_on_start and inv.command == "start":
        _recreate(real, inv)
    for extra in sabotage.extra:
        if extra.when == "before" and extra.command == inv.command:
            _run_extra(real, inv, extra)
    pass_fds: tuple[int, ...] = ()
    if sabotage.leak_fds and inv.command in ("create", "run"):
        argv, pass_fds = _leak(argv, inv, sabotage.leak_fds)
    if sabotage.state is not None and inv.command == "state":
        proc = subprocess.run([real, *argv], stdout=subprocess.PIPE, check=False)
        if proc.returncode != 0:
            return proc.returncode
        try:
            state = json.loads(proc.stdout)
        except json.JSONDecodeError:
            sys.stdout.buffer.write(proc.stdout)
            return 0
        text = sabotage.state(state)
        sys.stdout.write(text if text is not None else json.dumps(state, indent=2))
        return 0
    proc = subprocess.run([real, *argv], pass_fds=pass_fds, check=False)
    for extra in sabotage.extra:
        if extra.when == "after" and extra.command == inv.command:
            _run_extra(real, inv, extra)
    if inv.command in sabotage.succeed:
        return 0
    return proc.returncode


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m conformance.sabotage",
        description="Run a runtime with the sabotage of one check applied.",
    )
    parser.add_argument("--check", required=True, help="id of the check whose sabotage to apply")
    parser.add_argument("--runtime", required=True, help="the real runtime binary")
    parser.add_argument("args", nargs=argparse.REMAINDER, help="-- then the runtime's arguments")
    ns = parser.parse_args(argv)
    args = ns.args[1:] if ns.args[:1] == ["--"] else ns.args

    from conformance.registry import get_check

    try:
        check = get_check(ns.check)
    except KeyError as exc:
        print(f"conformance.sabotage: {exc.args[0]}", file=sys.stderr)
        return 2
    return run_sabotaged(check.sabotage, ns.runtime, args)


if __name__ == "__main__":
    sys.exit(main())
