"""v1 controllers this host does not mount (net_cls, net_prio, perf_event).

They sit unused on the cgroup2 side, so a forked child can mount them as v1
hierarchies in a private mount namespace (invisible to every other process),
run the manager there and tear everything down; when the child's mounts go, the
kernel hands the controllers back to cgroup2.  Memory, cpu, pids ... are never
touched.  hugetlb and rdma are not tested this way: hugetlb is in use on the
cgroup2 side here (see test_v2.py) and this kernel has no rdma controller.
"""

from __future__ import annotations

import ctypes
import json
import os
import subprocess
import tempfile
import time
import traceback

import pytest
from cg_testlib import requires_root, requires_v1

from runtime.cgroups import for_container, mounts

pytestmark = [requires_root, requires_v1]

CLONE_NEWNS = 0x00020000
EXTRA = ("net_cls", "net_prio", "perf_event")


def _proc_cgroups() -> dict[str, tuple[int, int, int]]:
    """controller -> (hierarchy id, number of cgroups, enabled) from /proc/cgroups."""
    with open("/proc/cgroups") as f:
        rows = [line.split() for line in f if not line.startswith("#")]
    return {r[0]: (int(r[1]), int(r[2]), int(r[3])) for r in rows}


def _unused_controllers() -> list[str]:
    h = mounts.hierarchies()
    return [c for c, (hier, _, enabled) in _proc_cgroups().items()
            if c in EXTRA and hier == 0 and enabled and c not in h.v1]


def _wait_until(cond, timeout: float = 10.0) -> bool:
    end = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > end:
            return False
        time.sleep(0.05)
    return True


def run_in_private_mount_ns(func) -> dict:
    """Fork; the child unshares its mount namespace, runs func and sends back JSON."""
    rfd, wfd = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(rfd)
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            if libc.unshare(CLONE_NEWNS) != 0:
                raise OSError(ctypes.get_errno(), "unshare(CLONE_NEWNS)")
            subprocess.run(["mount", "--make-rprivate", "/"], check=True)
            result = {"ok": func()}
        except BaseException:
            result = {"error": traceback.format_exc()}
        os.write(wfd, json.dumps(result).encode())
        os._exit(0)
    os.close(wfd)
    chunks = []
    while chunk := os.read(rfd, 65536):
        chunks.append(chunk)
    os.close(rfd)
    os.waitpid(pid, 0)
    result = json.loads(b"".join(chunks) or b'{"error": "child died"}')
    assert "error" not in result, result["error"]
    return result["ok"]


def _mount(controller: str, where: str) -> None:
    os.makedirs(where)
    # Just after an earlier test's unmount the old hierarchy may still be dying.
    for _ in range(50):
        r = subprocess.run(["mount", "-t", "cgroup", "-o", controller, "cgroup", where],
                           capture_output=True, text=True)
        if r.returncode == 0:
            return
        time.sleep(0.1)
    raise RuntimeError(f"cannot mount {controller}: {r.stderr.strip()}")


def _exercise(controllers: list[str]) -> dict:
    base = tempfile.mkdtemp(prefix="pyrunc-test-cgmnt-")
    mounted = []
    sleeper = None
    try:
        for c in controllers:
            _mount(c, os.path.join(base, c))
            mounted.append(os.path.join(base, c))
        mounts.refresh()
        parent = "/pyrunc-test-cg-extra-" + os.urandom(4).hex()
        m = for_container("c", parent + "/c")
        m.create()
        try:
            res = {"network": {"classID": 0x100001,
                               "priorities": [{"name": "lo", "priority": 5}]}}
            m.set({k: v for k, v in res.items()})
            sleeper = subprocess.Popen(["sleep", "100"])
            m.apply(sleeper.pid)
            seen = {c: (m.path(c), open(f"/proc/{sleeper.pid}/cgroup").read())
                    for c in controllers}
            out = {
                "paths": {c: m.path(c) for c in controllers},
                "in_cgroup": {c: f"{c}:{parent}/c" in seen[c][1] for c in controllers},
                "classid": _read(m.path("net_cls"), "net_cls.classid"),
                "ifpriomap": _read(m.path("net_prio"), "net_prio.ifpriomap"),
            }
        finally:
            if sleeper:
                sleeper.kill()
                sleeper.wait()
            m.destroy()
        out["left"] = [p for p in out["paths"].values() if p and os.path.exists(p)] + \
            [os.path.join(mp, parent.lstrip("/")) for mp in mounted
             if os.path.exists(os.path.join(mp, parent.lstrip("/")))]
        return out
    finally:
        # The kernel only lets go of a v1 hierarchy if, at unmount time, its removed
        # cgroups are really gone (freed after an RCU grace period); otherwise it
        # lingers, unmounted, holding the controllers.
        _wait_until(lambda: all(_proc_cgroups()[c][1] == 1 for c in controllers))
        for mp in mounted:
            subprocess.run(["umount", mp], check=False)
        for c in controllers:
            try:
                os.rmdir(os.path.join(base, c))
            except OSError:
                pass
        os.rmdir(base)


def test_net_cls_net_prio_perf_event_on_temporary_v1_hierarchies():
    controllers = _unused_controllers()
    if set(controllers) != set(EXTRA):
        pytest.skip(f"needs {', '.join(EXTRA)} unmounted and enabled; free: {controllers}")
    try:
        out = run_in_private_mount_ns(lambda: _exercise(controllers))
        assert all(out["in_cgroup"].values()), out
        assert out["classid"] == str(0x100001)
        assert "lo 5" in out["ifpriomap"].splitlines()
        assert out["left"] == []
        # ... and the controllers went back to cgroup2.
        assert _wait_until(lambda: all(_proc_cgroups()[c][0] == 0 for c in controllers)), \
            _proc_cgroups()
    finally:
        _release_stuck(controllers)


def _release_stuck(controllers: list[str]) -> None:
    """If a hierarchy outlived its unmount, mount and unmount it again so it goes."""
    for c in controllers:
        if _proc_cgroups()[c][0] == 0:
            continue
        where = tempfile.mkdtemp(prefix="pyrunc-test-cgmnt-")
        subprocess.run(["unshare", "-m", "--propagation", "private", "sh", "-c",
                        f"mount -t cgroup -o {c} cgroup {where} && umount {where}"],
                       check=False)
        os.rmdir(where)


def _read(path: str, name: str) -> str:
    if not path:
        return ""
    with open(os.path.join(path, name)) as f:
        return f.read().strip()
