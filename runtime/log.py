"""Logging like runc's logrus set-up: text or JSON lines to --log, or text to stderr.

containerd's shim reads the last {"level":"error",...} line of --log as the
error the user sees, so the JSON shape matters.
"""

from __future__ import annotations

import os
import sys
import time

from spec.jsonio import dumps

_LEVELS = {"debug": 0, "info": 1, "warning": 2, "error": 3}


class Logger:
    def __init__(self, path: str = "", fmt: str = "text", debug: bool = False) -> None:
        self.path = path
        self.fmt = fmt
        self.min_level = 0 if debug else 1

    def _line(self, level: str, msg: str) -> str:
        now = time.time()
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now))
        if self.fmt == "json":
            return dumps({"level": level, "msg": msg, "time": stamp + "Z"})
        return f'time="{stamp}Z" level={level} msg={dumps(msg)}'

    def log(self, level: str, msg: str) -> None:
        if _LEVELS[level] < self.min_level:
            return
        line = self._line(level, msg) + "\n"
        if not self.path:
            sys.stderr.write(line)
            sys.stderr.flush()
            return
        try:
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o644)
        except OSError:
            return
        try:
            os.write(fd, line.encode())
        finally:
            os.close(fd)

    def debug(self, msg: str) -> None:
        self.log("debug", msg)

    def info(self, msg: str) -> None:
        self.log("info", msg)

    def warning(self, msg: str) -> None:
        self.log("warning", msg)

    def error(self, msg: str) -> None:
        """Errors go to --log and, like runc, also as a plain line to stderr."""
        self.log("error", msg)
        if self.path:
            sys.stderr.write(msg + "\n")
            sys.stderr.flush()


# Set by runtime.cli.main; library code logs warnings through it.
log = Logger()
# With --debug, a runtime.debug.Timeline: trace("what happened") logs it with timings.
# None otherwise, so that a call site costs one test: `if trace: trace(...)`.
trace = None
