"""`state` says paused only when the container's own cgroup is frozen: frozen by an
ancestor only, it is still running (runc reads freezer.self_freezing for that on v1,
the cgroup's own cgroup.freeze on v2)."""

from __future__ import annotations

import os

from cg_testlib import unified_dir


def _freeze(rel: str, frozen: bool) -> None:
    v2 = unified_dir(rel)
    if v2 is not None:
        path, value = os.path.join(v2, "cgroup.freeze"), "1" if frozen else "0"
    else:
        path = os.path.join("/sys/fs/cgroup/freezer", rel.lstrip("/"), "freezer.state")
        value = "FROZEN" if frozen else "THAWED"
    with open(path, "w") as f:
        f.write(value)


def test_paused_only_when_frozen_itself(rt, bundle, cgroup_parent):
    bundle.args("/bin/sleep", "60").save()
    rt("run", "-d", "-b", bundle.path, bundle.id, check=True)
    _freeze(cgroup_parent, True)
    try:
        assert rt.status(bundle.id) == "running"
    finally:
        _freeze(cgroup_parent, False)
    rt("pause", bundle.id, check=True)
    assert rt.status(bundle.id) == "paused"
    rt("resume", bundle.id, check=True)
    assert rt.status(bundle.id) == "running"
