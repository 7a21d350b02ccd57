"""Helpers for the checkpoint/restore tests: a counting container on pipes.

A detached container's stdio is the runtime's own.  criu can dump a pipe (and
a restore hands its own stdio to the restored pipes), not a host file outside
the container's mounts: the container gets pipes whose other ends the test
holds, and its output is a count, one number a line.
"""

from __future__ import annotations

import os
import select
import shutil
import subprocess
import time

from tests.support.runtime import Runtime

COUNTER = "i=0; while :; do i=$((i+1)); echo $i; sleep 0.2; done"


def criu_problem() -> str:
    """Why criu cannot checkpoint here ("" if `criu check` is happy)."""
    criu = shutil.which("criu")
    if criu is None:
        return "criu is not installed"
    p = subprocess.run([criu, "check"], capture_output=True, text=True, timeout=120)
    if p.returncode != 0:
        lines = [line for line in (p.stderr + p.stdout).splitlines() if "Error" in line]
        return "criu cannot run on this kernel: " + (lines[0] if lines else p.stderr.strip())
    return ""


class Pipes:
    """stdin, stdout and stderr for a runtime and the container it starts."""

    def __init__(self) -> None:
        self.in_r, self.in_w = os.pipe()
        self.out_r, self.out_w = os.pipe()
        self.err_r, self.err_w = os.pipe()
        for fd in (self.out_r, self.err_r):
            os.set_blocking(fd, False)
        self.out = b""
        self.err = b""

    def run(self, rt: Runtime, *args: str, timeout: float = 300) -> int:
        """Run the runtime on these pipes; its exit status (stderr kept in .err)."""
        p = subprocess.run(rt.cmd(*args), stdin=self.in_r, stdout=self.out_w,
                           stderr=self.err_w, timeout=timeout)
        self._drain()
        return p.returncode

    def given(self) -> None:
        """The container holds its own copies now: ours of its ends go (EOF works)."""
        for name in ("in_r", "out_w", "err_w"):
            fd = getattr(self, name)
            if fd >= 0:
                os.close(fd)
                setattr(self, name, -1)

    def _drain(self) -> None:
        for fd, attr in ((self.out_r, "out"), (self.err_r, "err")):
            while fd >= 0:
                try:
                    data = os.read(fd, 65536)
                except BlockingIOError:
                    break
                if not data:
                    break
                setattr(self, attr, getattr(self, attr) + data)

    def numbers(self) -> list[int]:
        self._drain()
        return [int(x) for x in self.out.split() if x.isdigit()]

    def wait_numbers(self, count: int, timeout: float = 60) -> list[int]:
        """Wait until at least `count` numbers were printed; all of them."""
        deadline = time.monotonic() + timeout
        while len(self.numbers()) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"only {self.numbers()} after {timeout} s; "
                                     f"stderr: {self.err.decode(errors='replace')}")
            select.select([self.out_r], [], [], 0.5)
        return self.numbers()

    def error(self) -> str:
        self._drain()
        return self.err.decode(errors="replace")

    def close(self) -> None:
        for name in ("in_r", "in_w", "out_r", "out_w", "err_r", "err_w"):
            fd = getattr(self, name)
            if fd >= 0:
                os.close(fd)
                setattr(self, name, -1)


def cgroup_of(pid: int) -> str:
    with open(f"/proc/{pid}/cgroup") as f:
        return f.read()
