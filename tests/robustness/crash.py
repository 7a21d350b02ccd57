"""Kill a runtime command at a chosen point: hooks that announce themselves and sleep
give the window; the runtime is SIGKILLed, the hook is killed by the test after."""

from __future__ import annotations

import os
import signal
import subprocess
import time


def sleeping_hook(mark: str, seconds: int = 60) -> dict:
    """A hook that creates `mark`, then waits (a second run, e.g. the poststop
    hooks of a repeated delete, returns at once). Its command line carries `mark`, which
    is how kill_hook finds it: $$ would be a pid of the container's pid namespace."""
    script = (f"[ -e {mark} ] && exit 0; touch {mark}; "  # only the first run waits
              f"for i in $(seq {seconds}); do sleep 1; done")
    return {"path": "/bin/sh", "args": ["sh", "-c", script, mark]}


def spawn(rt, *args: str, logdir: str) -> subprocess.Popen:
    """The runtime in the background, output to files (a container may hold them)."""
    out = open(os.path.join(logdir, "out.txt"), "ab")
    try:
        return subprocess.Popen(rt.cmd(*args), stdout=out, stderr=out, start_new_session=True)
    finally:
        out.close()


def wait_for(path: str, proc: subprocess.Popen | None = None, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not os.path.exists(path):
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"exited ({proc.returncode}) before {path} appeared")
        if time.monotonic() > deadline:
            raise AssertionError(f"{path} did not appear")
        time.sleep(0.01)


def kill_hook(mark: str) -> None:
    """The hook outlives a killed runtime (it is the caller's program): end it."""
    from tests.support.leaks import processes_mentioning

    for pid in processes_mentioning(mark):
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass


def sigkill(proc: subprocess.Popen) -> None:
    proc.kill()
    proc.wait(timeout=20)
