"""`state` says paused only when the container's own cgroup is frozen: frozen by an
ancestor only, it is still running (runc reads freezer.self_freezing for that)."""

from __future__ import annotations

import os


def _freeze(path: str, state: str) -> None:
    with open(os.path.join(path, "freezer.state"), "w") as f:
        f.write(state)


def test_paused_only_when_frozen_itself(rt, bundle, cgroup_parent):
    bundle.args("/bin/sleep", "60").save()
    rt("run", "-d", "-b", bundle.path, bundle.id, check=True)
    parent = os.path.join("/sys/fs/cgroup/freezer", cgroup_parent.lstrip("/"))
    _freeze(parent, "FROZEN")
    try:
        assert rt.status(bundle.id) == "running"
    finally:
        _freeze(parent, "THAWED")
    rt("pause", bundle.id, check=True)
    assert rt.status(bundle.id) == "paused"
    rt("resume", bundle.id, check=True)
    assert rt.status(bundle.id) == "running"
