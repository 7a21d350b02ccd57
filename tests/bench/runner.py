"""Run one runtime binary with its own --root: time each call and take its peak RSS.

Each call goes through a small C helper (spawn.c) that forks the runtime, reaps
it with wait4 and reports the time and the rusage's ru_maxrss: the peak
resident set of the runtime process (or of a child it reaped itself, if larger).
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from typing import IO


@dataclass
class Call:
    seconds: float
    maxrss_kib: int | None
    returncode: int
    stdout: str
    stderr: str
    cpu_seconds: float | None = None


class CallFailed(RuntimeError):
    pass


@dataclass
class Runner:
    name: str
    path: str
    root: str
    samples: dict[str, list[float]] = field(default_factory=dict)
    rss: dict[str, list[int]] = field(default_factory=dict)
    cpu: dict[str, list[float]] = field(default_factory=dict)  # seconds of CPU per call
    memory: dict[str, list[int]] = field(default_factory=dict)  # a created container's init
    created: set[str] = field(default_factory=set)  # every container id given to create/run

    spawner: str | None = None  # tests/bench/spawn.c, built by build_spawner()
    gap: float = 0.0  # seconds of pause before each timed call (see cli.py --gap)
    global_args: tuple[str, ...] = ()  # before the command: --systemd-cgroup (layout.py)

    def call(self, *args: str, cwd: str | None = None, scenario: str | None = None,
             check: bool = True, timeout: float = 120.0) -> Call:
        """Run `<runtime> --root ROOT args...`; with a scenario, record time and peak RSS.
        A call still running after `timeout` seconds is killed (and fails)."""
        argv = [self.path, "--root", self.root, *self.global_args, *args]
        if scenario and self.gap:
            time.sleep(self.gap)
        if args[0] in ("create", "run"):
            self.created.add(args[-1])
        # Files, not pipes: a created container keeps the runtime's stdout/stderr open.
        with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
            cpu = None
            if self.spawner:
                dt, maxrss, status, cpu = self._spawned(argv, cwd, out, err, timeout)
            else:
                dt, maxrss, status = self._direct(argv, cwd, out, err, timeout)
            out.seek(0)
            err.seek(0)
            call = Call(dt, maxrss, os.waitstatus_to_exitcode(status),
                        out.read().decode(errors="replace"),
                        err.read().decode(errors="replace").strip(), cpu)
        if check and call.returncode != 0:
            raise CallFailed(f"{self.name} {' '.join(args)}: exit {call.returncode}: "
                             f"{call.stderr or '(no message)'}")
        if scenario:
            self.samples.setdefault(scenario, []).append(call.seconds)
            if maxrss is not None:
                self.rss.setdefault(scenario, []).append(maxrss)
            if cpu is not None:
                self.cpu.setdefault(scenario, []).append(cpu)
        return call

    def _spawned(self, argv: list[str], cwd: str | None, out: IO, err: IO,
                 timeout: float) -> tuple[float, int, int, float]:
        r, w = os.pipe()
        try:
            p = subprocess.Popen([self.spawner, str(w), str(max(1, round(timeout))), *argv],
                                 cwd=cwd, stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                                 pass_fds=(w,))
            os.close(w)
            w = -1
            p.wait()
            with os.fdopen(r, "rb") as f:
                r = -1
                line = f.read().split()
        finally:
            for fd in (r, w):
                if fd >= 0:
                    os.close(fd)
        if p.returncode != 0 or len(line) != 4:
            raise CallFailed(f"spawn helper failed ({p.returncode}) for {' '.join(argv)}")
        ns, maxrss, status, cpu_ns = (int(x) for x in line)
        return ns / 1e9, maxrss, status, cpu_ns / 1e9

    def _direct(self, argv: list[str], cwd: str | None, out: IO, err: IO,
                timeout: float) -> tuple[float, None, int]:
        """Without the helper: timed from here, and no peak RSS (it would be the bench's)."""
        t0 = time.perf_counter()
        p = subprocess.Popen(argv, cwd=cwd, stdin=subprocess.DEVNULL, stdout=out, stderr=err)
        try:
            p.wait(timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
        return time.perf_counter() - t0, None, _status(p.returncode)

    def record(self, scenario: str, seconds: float) -> None:
        self.samples.setdefault(scenario, []).append(seconds)

    def ids(self) -> list[str]:
        return self.call("list", "-q", check=False).stdout.split()

    def delete_all(self) -> None:
        """Force-delete whatever this runtime's root still holds."""
        for cid in self.ids():
            self.call("delete", "--force", cid, check=False, timeout=60)


def _status(returncode: int) -> int:
    """A wait status again from Popen's returncode (negative: killed by that signal)."""
    return -returncode if returncode < 0 else returncode << 8


def build_spawner(workdir: str) -> str | None:
    """Compile spawn.c into workdir (static if the C library allows); None without a compiler."""
    src = os.path.join(os.path.dirname(os.path.abspath(__file__)), "spawn.c")
    exe = os.path.join(workdir, "spawn")
    for extra in (["-static"], []):
        try:
            p = subprocess.run(["cc", *extra, "-O2", "-o", exe, src], capture_output=True)
        except FileNotFoundError:
            return None
        if p.returncode == 0:
            return exe
    return None
