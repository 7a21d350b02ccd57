"""Drive a runtime binary (pyrunc or runc) with its own --root, as a client would."""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEFAULT_BINARY = os.path.join(REPO, ".venv", "bin", "pyrunc")


def binary() -> str:
    return os.environ.get("PYRUNC_TEST_RUNTIME") or DEFAULT_BINARY


def is_pyrunc() -> bool:
    return os.path.basename(binary()).startswith("pyrunc")


RUNC = "/usr/sbin/runc"


def under_test_and_runc() -> list[str]:
    """The runtime under test, and runc beside it when installed (and not already it)."""
    out = [binary()]
    if os.access(RUNC, os.X_OK) and os.path.realpath(binary()) != RUNC:
        out.append(RUNC)
    return out


class Runtime:
    def __init__(self, root: str, path: str | None = None) -> None:
        self.path = path or binary()
        self.root = root

    def cmd(self, *args: str) -> list[str]:
        return self.wrap([self.path, "--root", self.root, *args])

    def wrap(self, cmd: list[str]) -> list[str]:
        """As the rootless lane's user when there is one (tests/support/rootless.py)."""
        from tests.support import rootless

        return rootless.as_user(cmd) if rootless.active() else cmd

    def __call__(self, *args: str, check: bool = False, timeout: float = 30, cwd: str | None = None,
                 input: str | None = None, log: str | None = None,
                 **kw) -> subprocess.CompletedProcess:
        cmd = self.cmd(*args)
        if log:
            cmd = self.wrap([self.path, "--root", self.root, "--log", log, "--log-format", "json",
                             *args])
        # Files, not pipes: a created container inherits the runtime's stdout and
        # stderr and would hold a pipe open until it exits.
        with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
            r = subprocess.run(cmd, stdout=out, stderr=err, timeout=timeout, cwd=cwd,
                               input=input.encode() if input is not None else None, **kw)
            out.seek(0)
            err.seek(0)
            p = subprocess.CompletedProcess(cmd, r.returncode, out.read().decode(errors="replace"),
                                            err.read().decode(errors="replace"))
        if check and p.returncode != 0:
            raise AssertionError(f"{' '.join(cmd)} failed ({p.returncode}): {p.stderr.strip()}")
        return p

    def state(self, cid: str) -> dict:
        return json.loads(self("state", cid, check=True).stdout)

    def status(self, cid: str) -> str:
        return self.state(cid)["status"]

    def wait_status(self, cid: str, status: str, timeout: float = 10) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.status(cid) == status:
                return
            time.sleep(0.02)
        raise AssertionError(f"{cid} did not reach {status}: {self.status(cid)}")

    def ids(self) -> list[str]:
        out = self("list", "-q", check=True).stdout
        return [line for line in out.splitlines() if line]

    def cleanup(self) -> None:
        for cid in self.ids():
            self("delete", "--force", cid)
