"""Reach a unix socket whose path is longer than sun_path (108 bytes).

Clients put --root deep: Docker's default is /var/run/docker/runtime-runc/moby,
and <root>/<64-hex id>/start.sock is then 109 bytes. The socket is bound and
connected through /proc/self/fd/<fd of its directory>/<name> instead."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

SUN_PATH_MAX = 107  # sizeof(sun_path) less the terminating NUL


@contextmanager
def reachable(path: str) -> Iterator[str]:
    """A path to bind or connect to that names the same socket as `path`."""
    if len(os.fsencode(path)) <= SUN_PATH_MAX:
        yield path
        return
    dfd = os.open(os.path.dirname(path) or ".", os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        yield f"/proc/self/fd/{dfd}/{os.path.basename(path)}"
    finally:
        os.close(dfd)
