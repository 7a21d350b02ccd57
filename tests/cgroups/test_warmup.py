"""Nothing but the container's own processes in its cgroups, around the cgroup
warm-up (runtime/cgroups/warmup.py): the runtime's short-lived thread moves into one
of the container's cgroups while it is created or exec'd into.  The first two tests
check the invariant after the command; the third catches the thread in the act: it
must never be in a frozen freezer cgroup (exec --ignore-paused), where it would stop
the runtime with the container."""

from __future__ import annotations

import os
import subprocess
import time

V1 = "/sys/fs/cgroup"


def _tasks(cgroups_path: str) -> dict[str, set[int]]:
    """Thread ids in the container's cgroup of every v1 hierarchy."""
    out = {}
    for name in sorted(os.listdir(V1)):
        path = os.path.join(V1, name, cgroups_path.lstrip("/"), "tasks")
        if name != "unified" and os.path.exists(path):
            with open(path) as f:
                out[name] = {int(x) for x in f.read().split()}
    return out


def _threads(pid: int) -> set[int]:
    return {int(t) for t in os.listdir(f"/proc/{pid}/task")}


def test_create_leaves_only_the_init_in_its_cgroups(rt, bundle):
    bundle.args("/bin/sleep", "60").save()
    rt("create", "-b", bundle.path, bundle.id, check=True)
    init = rt.state(bundle.id)["pid"]
    tasks = _tasks(bundle.linux["cgroupsPath"])
    assert tasks, "no v1 hierarchy holds the container"
    for name, tids in tasks.items():
        assert tids == _threads(init), f"{name}: {tids} besides the init {init}"


def test_exec_leaves_only_container_processes(rt, bundle):
    bundle.args("/bin/sleep", "60").save()
    rt("run", "-d", "-b", bundle.path, bundle.id, check=True)
    init = rt.state(bundle.id)["pid"]
    p = rt("exec", bundle.id, "/bin/true")
    assert p.returncode == 0, p.stderr
    for name, tids in _tasks(bundle.linux["cgroupsPath"]).items():
        assert tids == _threads(init), f"{name}: {tids} besides the init {init}"


def test_exec_into_a_paused_container_does_not_freeze_the_runtime(rt, bundle):
    """--ignore-paused: the warm-up must not pick the (frozen) freezer cgroup, or the
    runtime's own thread would be frozen with the container."""
    bundle.args("/bin/sleep", "60").save()
    rt("run", "-d", "-b", bundle.path, bundle.id, check=True)
    rt("pause", bundle.id, check=True)
    freezer = os.path.join(V1, "freezer", bundle.linux["cgroupsPath"].lstrip("/"), "tasks")
    # The exec'd process cannot exec while frozen: exec -d waits until `resume`.
    with subprocess.Popen(rt.cmd("exec", "-d", "--ignore-paused", bundle.id, "/bin/true"),
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE) as p:
        try:
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline and p.poll() is None:
                with open(freezer) as f:
                    frozen = {int(x) for x in f.read().split()}
                runtime = _threads(p.pid) if os.path.exists(f"/proc/{p.pid}") else set()
                assert not frozen & runtime, "a runtime thread is in the frozen cgroup"
                if len(frozen) > len(_threads(rt.state(bundle.id)["pid"])):
                    break  # the exec'd process has joined
                time.sleep(0.02)
        finally:
            rt("resume", bundle.id, check=True)
        assert p.wait(timeout=20) == 0, p.stderr.read()
