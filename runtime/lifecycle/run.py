"""run: create + start; in the foreground, forward signals, wait, delete, and exit
with the container's status (128+N when killed by signal N, as runc)."""

from __future__ import annotations

import os
import signal

from runtime.errors import PyruncError

# Signals a foreground `run` passes on to the container instead of acting on.
FORWARDED = tuple(s for s in range(1, 32)
                  if s not in (signal.SIGKILL, signal.SIGSTOP, signal.SIGCHLD))


def run_container(ctx, container_id: str, opts: dict) -> int:
    from runtime.cli.create import create_with_prefix
    from runtime.lifecycle.delete import delete
    from runtime.lifecycle.start import start

    if opts["detach"]:
        create_with_prefix("run", ctx, opts, container_id)
        try:
            start(ctx, container_id)
        except PyruncError:
            delete(ctx, container_id, force=True)
            raise
        return 0

    pending: list[int] = []
    pid = 0

    def forward(signum: int, _frame: object) -> None:
        if pid:
            try:
                os.kill(pid, signum)
            except ProcessLookupError:
                pass
        else:
            pending.append(signum)

    previous = {s: signal.signal(s, forward) for s in FORWARDED}
    try:
        pid = create_with_prefix("run", ctx, opts, container_id)
        try:
            start(ctx, container_id)
        except PyruncError:
            delete(ctx, container_id, force=True)
            raise
        for s in pending:
            os.kill(pid, s)
        status = _wait_child(pid)
    finally:
        for s, h in previous.items():
            signal.signal(s, h)
    if not opts.get("keep"):
        delete(ctx, container_id, force=True)
    return status


def _wait_child(pid: int) -> int:
    try:
        _, status = os.waitpid(pid, 0)
    except ChildProcessError:
        return 0  # reaped elsewhere; nothing to report
    code = os.waitstatus_to_exitcode(status)
    return 128 - code if code < 0 else code
