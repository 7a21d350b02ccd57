"""Scenarios the clients run alike (Docker, podman, rootless podman): written
once, called by each client's tests with its client and its `started` fixture."""

from __future__ import annotations

import os
import time

from tests.e2e.cgroups import Layout, cgroup_dir, our_units, proc_cgroup
from tests.e2e.env import wait_for

TRAPS_TERM = ("sh", "-c", 'trap "echo got-term; exit 0" TERM; echo ready; '
              "while :; do sleep 1; done")
IGNORES_TERM = ("sh", "-c", 'trap "" TERM; echo ready; while :; do sleep 1; done')


def wait_log(client, container: str, text: str, timeout: float = 20) -> None:
    wait_for(lambda: text in client("logs", container).stdout, timeout, f"{text!r} in logs")


def stop_sends_sigterm(client, started, within: float | None = None) -> None:
    """`stop` delivers SIGTERM: the process's trap runs and it exits 0 (before
    `within` seconds, when given: no waiting for the stop timeout)."""
    c = started(cmd=TRAPS_TERM)
    wait_log(client, c, "ready")
    t0 = time.monotonic()
    client.ok("stop", "-t", "30", c)
    if within is not None:
        assert time.monotonic() - t0 < within
    assert client.inspect(c, "{{.State.ExitCode}}") == "0"
    assert "got-term" in client("logs", c).stdout


def stop_kills_after_timeout(client, started) -> None:
    """A process that ignores SIGTERM is killed once `stop -t 2` runs out: 137."""
    c = started(cmd=IGNORES_TERM)
    wait_log(client, c, "ready")
    t0 = time.monotonic()
    client.ok("stop", "-t", "2", c)
    assert time.monotonic() - t0 >= 2
    assert client.inspect(c, "{{.State.ExitCode}}") == "137"


def cgroup_follows_driver(client, layout: Layout, c: str, *, parent_of: str, scope: str,
                          cgroupfs_leaf: str, rm: tuple[str, ...]) -> None:
    """The running container `c` is in `<scope>-<id>.scope` in the client's slice
    (systemd driver) or in `<cgroup parent>/<cgroupfs_leaf><id>` (cgroupfs); after
    `rm` its cgroup directory is gone and no scope named for it is left."""
    try:
        full_id = client.inspect(c, "{{.Id}}")
        pid = client.pid(c)
        parent = layout.parent_dir(parent_of)
        if layout.systemd:
            unit = f"{scope}-{full_id}.scope"
            assert proc_cgroup(pid, "memory") == f"{parent}/{unit}"
            assert unit in our_units()
        else:
            assert proc_cgroup(pid, "memory") == f"{parent}/{cgroupfs_leaf}{full_id}"
        path = cgroup_dir(pid, "memory")
    finally:
        client.ok(*rm, c)
    assert not os.path.exists(path)
    assert not [u for u in our_units() if full_id in u]
