"""pyrunc as a user installs it: a wheel of this checkout in a fresh venv (--wheel)."""

from __future__ import annotations

import glob
import os
import subprocess
import sys

from tests.bench.host import REPO


def install_fresh(base: str) -> str:
    """Build a wheel of the checkout, install it (and its dependencies) into a new
    venv under `base`, run its `pyrunc` once (the first use writes the module
    archive and the fast launcher, runtime/startup) and return that `pyrunc`."""
    venv = os.path.join(base, "venv")
    wheels = os.path.join(base, "wheels")
    python = os.path.realpath(sys.executable)  # the system's interpreter, not .venv's
    quiet = {"check": True, "stdout": subprocess.DEVNULL}
    subprocess.run([python, "-m", "venv", venv], **quiet)
    pip = os.path.join(venv, "bin", "pip")
    subprocess.run([pip, "wheel", "-q", "--no-deps", "-w", wheels, REPO], **quiet)
    (wheel,) = glob.glob(os.path.join(wheels, "pyrunc-*.whl"))
    subprocess.run([pip, "install", "-q", wheel], **quiet)
    pyrunc = os.path.join(venv, "bin", "pyrunc")
    subprocess.run([pyrunc, "--version"], **quiet)
    return pyrunc


def with_wheel(runtimes: dict[str, str], base: str) -> dict[str, str]:
    """The runtimes to measure, with pyrunc from a fresh wheel install (install_fresh)
    in its place, first."""
    return {"pyrunc": install_fresh(base), **{n: p for n, p in runtimes.items() if n != "pyrunc"}}
