"""The scheduling operations of the native plan, run by a real process outside a
container (the container paths are in the other test files; CPU affinity is
what `exec` uses, so it is exercised here directly)."""

from __future__ import annotations

import os
import signal

import pytest

from runtime.errors import PyruncError
from runtime.native import lib
from runtime.native.channel import Channel, ChildError
from runtime.native.plan import Plan
from runtime.process import sched


def _spawn(plan: Plan) -> int:
    ch = Channel(plan)
    pid = ch.spawn()
    try:
        try:
            ch.recv()  # EOF once the process has exec'd; an error report otherwise
        except ChildError:
            os.waitpid(pid, 0)
            raise
        except PyruncError as e:  # EOF: the sync socket closed at exec
            assert "Broken pipe" in str(e)
    finally:
        ch.close()
    return pid


def _finish(plan: Plan) -> int:
    argv = ["/bin/sleep", "30"]
    plan.add(lib.OP_LOOKUP, "look up sleep", v=(argv, ["PATH=/bin"]))
    plan.add(lib.OP_EXEC, "exec sleep", v=(argv, ["PATH=/bin"]))
    return _spawn(plan)


def _stop(pid: int) -> None:
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)


def test_initial_cpu_affinity():
    mine = os.sched_getaffinity(0)
    if len(mine) < 2:
        pytest.skip("needs two CPUs to tell a pinned process from a free one")
    plan = Plan()
    sched.add_affinity(plan, {max(mine)})
    pid = _finish(plan)
    try:
        assert os.sched_getaffinity(pid) == {max(mine)}
        sched.set_affinity(pid, {min(mine)})  # the "final" step, from outside
        assert os.sched_getaffinity(pid) == {min(mine)}
    finally:
        _stop(pid)


def test_affinity_to_no_usable_cpu_is_an_error():
    plan = Plan()
    sched.add_affinity(plan, {1000})
    with pytest.raises(ChildError, match="sched_setaffinity"):
        _finish(plan)


def test_scheduler_and_io_priority_ops():
    plan = Plan()
    sched.add_scheduler(plan, {"policy": "SCHED_BATCH", "nice": 3})
    plan.add(lib.OP_SETSID, "setsid")  # ioprio for the process group: our own
    sched.add_io_priority(plan, {"class": "IOPRIO_CLASS_IDLE", "priority": 0})
    pid = _finish(plan)
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        assert (int(fields[41 - 3]), int(fields[19 - 3])) == (lib.SCHED_BATCH, 3)
    finally:
        _stop(pid)
