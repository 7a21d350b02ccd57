"""The tests run the installed .venv/bin/pyrunc: reinstall it when a source is newer."""

from __future__ import annotations

import os
import site
import subprocess
import sys

from tests.support.runtime import DEFAULT_BINARY, REPO, binary

STAMP = os.path.join(REPO, ".venv", ".pyrunc-installed")  # tests/setup.sh touches it
SOURCES = ("pyproject.toml", "setup.py", "runtime", "spec", "conformance")


def stale() -> bool:
    try:
        installed = os.stat(STAMP).st_mtime
    except FileNotFoundError:
        return True
    for source in SOURCES:
        path = os.path.join(REPO, source)
        for dirpath, dirnames, filenames in os.walk(path) if os.path.isdir(path) else \
                [(REPO, [], [source])]:
            dirnames[:] = [d for d in dirnames if d != "__pycache__"]
            for name in filenames:
                if name != "modules.archive" and \
                        os.stat(os.path.join(dirpath, name)).st_mtime > installed:
                    return True
    return False


def reinstall_if_stale() -> None:
    """tests/setup.sh again when the sources changed since the last install (root
    only: it installs system packages too)."""
    if binary() == DEFAULT_BINARY and os.geteuid() == 0 and stale():
        subprocess.run(["bash", os.path.join(REPO, "tests", "setup.sh")], check=True)


def installed_first() -> None:
    """The installed packages ahead of the checkout's on sys.path (the tests
    themselves stay the checkout's: `tests` is not installed)."""
    for path in reversed(site.getsitepackages()):
        if os.path.isdir(os.path.join(path, "runtime")):
            sys.path.insert(0, path)
