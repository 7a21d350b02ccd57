"""--debug: runc-style level=debug lines that say where the milliseconds go.

Imported only with --debug (runtime.cli.main installs a Timeline as
runtime.log.trace); without it every call site is one `if trace:` on None.
Each line carries the time since the previous line and since the command began.
"""

from __future__ import annotations

import time

import runtime.log as logmod


class Timeline:
    def __init__(self, command: str) -> None:
        self.start = self.last = time.monotonic_ns()
        # CPU time so far: the interpreter's start-up and pyrunc's imports.
        logmod.log.debug(f"{command}: started, {time.process_time() * 1000:.1f} ms of CPU "
                         "for the interpreter and imports")

    def __call__(self, msg: str) -> None:
        now = time.monotonic_ns()
        logmod.log.debug(f"{msg} (+{(now - self.last) / 1e6:.3f} ms, "
                         f"{(now - self.start) / 1e6:.3f} ms in)")
        self.last = now


def init_steps(plan, sync: str) -> str:
    """What the container process did before it reached `sync`: the plan's steps
    since the previous sync (the native plan, runtime/process/init_plan.py)."""
    what = plan.what
    end = what.index(f"sync {sync}") if f"sync {sync}" in what else len(what)
    begin = max((i for i in range(end) if what[i].startswith("sync ")), default=-1) + 1
    return "; ".join(what[begin:end]) or "nothing"


def exec_steps(plan) -> str:
    """The steps after the last sync, up to the exec."""
    what = plan.what
    begin = max((i for i in range(len(what)) if what[i].startswith("sync ")), default=-1) + 1
    return "; ".join(what[begin:]) or "nothing"
