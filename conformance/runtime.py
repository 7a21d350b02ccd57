"""A thin wrapper around a runtime binary with runc's command line.

Every call passes ``--root`` so the runtime keeps its state in our own directory, has a timeout,
and captures stdout/stderr through files, not pipes: a container created by ``create`` inherits
the runtime's stdio and would keep a pipe open long after the runtime exited.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

DEFAULT_TIMEOUT = 30.0


class RuntimeCallError(Exception):
    """A runtime call did not give the answer the caller needed."""


@dataclass(frozen=True)
class Result:
    argv: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str
    seconds: float
    timed_out: bool = False

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.timed_out

    def summary(self) -> str:
        """One short line saying how the call ended, for failure reasons."""
        if self.timed_out:
            return f"{self.operation} timed out after {self.seconds:.0f}s"
        lines = (self.stderr.strip() or self.stdout.strip()).splitlines()
        message = _log_message(lines[-1]) if lines else "no output"
        if len(message) > 300:
            message = "…" + message[-299:]
        return f"{self.operation} exited {self.returncode}: {message}"

    @property
    def operation(self) -> str:
        """The runtime command word (create, start, ...), for messages."""
        args = list(self.argv[1:])
        if len(args) >= 2 and args[0] == "--root":
            args = args[2:]
        return args[0] if args else "(no command)"

    @property
    def command(self) -> str:
        # The runtime path and --root are noise in a reason; keep the operation and its operands.
        args = list(self.argv[1:])
        if len(args) >= 2 and args[0] == "--root":
            args = args[2:]
        return " ".join(args)


class Runtime:
    """Calls one runtime binary; all containers live under ``root``."""

    def __init__(
        self,
        path: str,
        root: Path,
        timeout: float = DEFAULT_TIMEOUT,
        env: Mapping[str, str] | None = None,
    ) -> None:
        # A relative path would break once a check runs the runtime from elsewhere.
        self.path = os.path.abspath(path) if os.sep in path else path
        self.root = root
        self.timeout = timeout
        self.env = dict(env) if env is not None else dict(os.environ)

    def call(
        self,
        *args: str,
        stdin: bytes | None = None,
        stdout: Path | None = None,
        stderr: Path | None = None,
        cwd: Path | None = None,
        timeout: float | None = None,
        prefix: Sequence[str] = (),
        extra_env: Mapping[str, str] | None = None,
    ) -> Result:
        """Run ``runtime --root ROOT ARGS``; ``stdout``/``stderr`` files receive the output.

        ``prefix`` is prepended to the command line (e.g. a shell that adjusts the process first).
        """
        argv = (self.path, "--root", str(self.root), *args)
        env = dict(self.env)
        if extra_env:
            env.update(extra_env)
        timeout = self.timeout if timeout is None else timeout
        with tempfile.TemporaryDirectory(prefix="rtcall-") as tmp:
            out_path = stdout or Path(tmp, "stdout")
            err_path = stderr or Path(tmp, "stderr")
            begin = time.monotonic()
            timed_out = False
            with open(out_path, "ab") as out, open(err_path, "ab") as err:
                proc = subprocess.Popen(
                    [*prefix, *argv],
                    stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
                    stdout=out,
                    stderr=err,
                    cwd=cwd,
                    env=env,
                    start_new_session=True,
                )
                try:
                    proc.communicate(stdin, timeout=timeout)
                except subprocess.TimeoutExpired:
                    timed_out = True
                    proc.kill()
                    proc.wait()
            seconds = time.monotonic() - begin
            return Result(
                argv=argv,
                returncode=proc.returncode,
                stdout=_read(out_path),
                stderr=_read(err_path),
                seconds=seconds,
                timed_out=timed_out,
            )

    # The operations of the runtime-spec, spelled as runc's command line spells them.

    def create(
        self,
        container_id: str,
        bundle: Path | str,
        *,
        stdout: Path | None = None,
        stderr: Path | None = None,
        console_socket: Path | None = None,
        pid_file: Path | None = None,
        cwd: Path | None = None,
        prefix: Sequence[str] = (),
        extra_env: Mapping[str, str] | None = None,
    ) -> Result:
        args = ["create", "--bundle", str(bundle)]
        if console_socket is not None:
            args += ["--console-socket", str(console_socket)]
        if pid_file is not None:
            args += ["--pid-file", str(pid_file)]
        return self.call(
            *args,
            container_id,
            stdout=stdout,
            stderr=stderr,
            cwd=cwd,
            prefix=prefix,
            extra_env=extra_env,
        )

    def start(self, container_id: str) -> Result:
        return self.call("start", container_id)

    def state(self, container_id: str) -> Result:
        return self.call("state", container_id)

    def kill(self, container_id: str, signal: str = "TERM") -> Result:
        return self.call("kill", container_id, signal)

    def delete(self, container_id: str, force: bool = False) -> Result:
        return self.call("delete", *(["--force"] if force else []), container_id)

    def state_json(self, container_id: str) -> dict:
        """The parsed state, or RuntimeCallError saying why there is none."""
        result = self.state(container_id)
        if not result.ok:
            raise RuntimeCallError(result.summary())
        try:
            state = json.loads(result.stdout)
        except json.JSONDecodeError as exc:
            raise RuntimeCallError(f"`state` printed no valid JSON: {exc}") from None
        if not isinstance(state, dict):
            raise RuntimeCallError("`state` printed JSON that is not an object")
        return state

    def version(self) -> str:
        """First line of ``--version``, or why it could not be had."""
        try:
            proc = subprocess.run(
                [self.path, "--version"], capture_output=True, text=True, timeout=10
            )
        except OSError as exc:
            return f"unavailable ({exc.strerror})"
        except subprocess.TimeoutExpired:
            return "unavailable (--version timed out)"
        lines = proc.stdout.strip().splitlines()
        return lines[0] if lines else "unknown"


_LOGFMT_MSG = re.compile(r'msg="((?:[^"\\]|\\.)*)"')


def _log_message(line: str) -> str:
    """The msg of a logfmt line (runc's error output), else the line itself."""
    found = _LOGFMT_MSG.search(line)
    if not found:
        return line.strip()
    return found.group(1).replace('\\"', '"').replace("\\\\", "\\")


def _read(path: Path) -> str:
    try:
        return path.read_bytes().decode(errors="replace")
    except FileNotFoundError:
        return ""
