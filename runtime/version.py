"""Version details printed by --version (commit and libseccomp are looked up lazily)."""

from __future__ import annotations

import os


def commit() -> str:
    here = os.path.dirname(os.path.abspath(__file__))
    try:
        with open(os.path.join(here, "_commit.txt")) as f:
            return f.read().strip() or "unknown"
    except OSError:
        pass
    head = os.path.join(os.path.dirname(here), ".git", "HEAD")
    try:
        with open(head) as f:
            ref = f.read().strip()
        if ref.startswith("ref: "):
            with open(os.path.join(os.path.dirname(head), ref[5:])) as f:
                return f.read().strip()[:12]
        return ref[:12]
    except OSError:
        return "unknown"


def libseccomp_version() -> str:
    try:
        from runtime.native import lib

        v = lib.pyrunc_libseccomp_version()
    except (ImportError, AttributeError):
        return "unknown"
    return f"{v >> 16}.{(v >> 8) & 0xff}.{v & 0xff}"
