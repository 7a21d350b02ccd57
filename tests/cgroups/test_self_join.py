"""The container process joins its cgroups by itself (runtime/process/cgroup_join.py):
a "0" written to each v1 hierarchy's `tasks` file, and clone3(CLONE_INTO_CGROUP)
for cgroup2, so that no runtime write to cgroup.procs (and the kernel's RCU grace
period behind it) is on the critical path.

What the runtime writes is watched with inotify on cgroup directories made before
`create` (it then uses them as they are): a write to a cgroup file is an IN_MODIFY
event of that file.  Wherever it joins from, the process must end up in every
cgroup of the container, and only it.
"""

from __future__ import annotations

import ctypes
import os
import struct
import subprocess
import time

import pytest

V1 = "/sys/fs/cgroup"
IN_MODIFY = 0x2   # <sys/inotify.h>
_libc = ctypes.CDLL(None, use_errno=True)


def _hierarchies() -> dict[str, str]:
    """Mount point of every cgroup hierarchy under /sys/fs/cgroup, by its name there
    ("unified" for cgroup2, also when it is /sys/fs/cgroup itself)."""
    out = {}
    with open("/proc/self/mountinfo") as f:
        for line in f:
            fields = line.split()
            fstype = fields[fields.index("-") + 1]
            if fstype == "cgroup2" and fields[4] == V1:
                out["unified"] = V1
            elif fstype in ("cgroup", "cgroup2") and fields[4].startswith(V1 + "/"):
                out[os.path.basename(fields[4])] = fields[4]
    return out


def _v1() -> bool:
    """Whether there are v1 hierarchies to join by writing to their tasks files."""
    return any(name != "unified" for name in _hierarchies())


class Watch:
    """inotify IN_MODIFY on cgroup.procs and tasks of the container's directories."""

    def __init__(self, cgroups_path: str) -> None:
        self.fd = _libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC)
        assert self.fd >= 0, os.strerror(ctypes.get_errno())
        self.files: dict[int, str] = {}
        for mount in _hierarchies().values():
            d = os.path.join(mount, cgroups_path.lstrip("/"))
            os.makedirs(d, exist_ok=True)
            for name in ("cgroup.procs", "tasks"):
                path = os.path.join(d, name)
                if os.path.exists(path):
                    wd = _libc.inotify_add_watch(self.fd, path.encode(), IN_MODIFY)
                    assert wd >= 0, os.strerror(ctypes.get_errno())
                    self.files[wd] = path

    def modified(self) -> set[str]:
        out = set()
        try:
            data = os.read(self.fd, 65536)
        except BlockingIOError:
            return out
        while data:
            wd, mask, _, length = struct.unpack_from("iIII", data)
            if mask & IN_MODIFY:
                out.add(self.files[wd])
            data = data[16 + length:]
        return out

    def close(self) -> None:
        os.close(self.fd)


@pytest.fixture
def watch(bundle):
    w = Watch(bundle.linux["cgroupsPath"])
    yield w
    w.close()


def _cgroups_of(pid: int) -> dict[str, str]:
    """/proc/<pid>/cgroup as {hierarchy's controllers ("" for cgroup2): path}."""
    with open(f"/proc/{pid}/cgroup") as f:
        return {ctrl: path for _, ctrl, path in (line.rstrip("\n").split(":", 2) for line in f)}


def _assert_in_container_cgroups(pid: int, cgroups_path: str) -> None:
    cgroups = _cgroups_of(pid)
    assert "" in cgroups and len(cgroups) == len(_hierarchies()), cgroups
    for ctrl, path in cgroups.items():
        assert path == cgroups_path, f"{pid} in {ctrl or 'cgroup2'}:{path}"


def _tasks(cgroups_path: str) -> dict[str, set[int]]:
    """Thread ids in the container's cgroup of every v1 hierarchy."""
    out = {}
    for name, mount in _hierarchies().items():
        path = os.path.join(mount, cgroups_path.lstrip("/"), "tasks")
        if name != "unified" and os.path.exists(path):
            with open(path) as f:
                out[name] = {int(x) for x in f.read().split()}
    return out


def _threads(pid: int) -> set[int]:
    return {int(t) for t in os.listdir(f"/proc/{pid}/task")}


def test_the_init_joins_its_cgroups_itself(rt, bundle, watch):
    bundle.args("/bin/sleep", "60").save()
    rt("create", "-b", bundle.path, bundle.id, check=True)
    init = rt.state(bundle.id)["pid"]
    _assert_in_container_cgroups(init, bundle.linux["cgroupsPath"])
    written = watch.modified()
    procs = sorted(p for p in written if p.endswith("/cgroup.procs"))
    assert not procs, f"the runtime moved the init: {procs}"
    tasks = {p for p in watch.files.values() if p.endswith("/tasks")}
    # cgroup2 only: clone3(CLONE_INTO_CGROUP) joined it; nothing is written at all.
    assert (tasks or not _v1()) and written == tasks, \
        f"not joined by a write to tasks: {tasks - written}; written: {written - tasks}"
    for name, tids in _tasks(bundle.linux["cgroupsPath"]).items():
        assert tids == _threads(init), f"{name}: {tids} besides the init {init}"


def test_an_exec_process_joins_its_cgroups_itself(rt, bundle, watch):
    bundle.args("/bin/sleep", "60").save()
    rt("run", "-d", "-b", bundle.path, bundle.id, check=True)
    watch.modified()
    p = rt("exec", bundle.id, "/bin/sh", "-c", "cat /proc/self/cgroup")
    assert p.returncode == 0, p.stderr
    # No cgroup namespace in this config: the paths are the host's.
    lines = p.stdout.split()
    assert len(lines) == len(_hierarchies()), p.stdout
    assert {line.split(":", 2)[2] for line in lines} == {bundle.linux["cgroupsPath"]}, p.stdout
    written = watch.modified()
    assert not [f for f in written if f.endswith("/cgroup.procs")], written
    if _v1():
        assert written, "no tasks file written: the exec process did not join by itself"


def test_exec_into_a_paused_container_does_not_freeze_the_runtime(rt, bundle):
    """--ignore-paused: the process joins the (frozen) freezer last and stops there;
    the runtime must not be frozen with it and goes on once it is resumed."""
    bundle.args("/bin/sleep", "60").save()
    rt("run", "-d", "-b", bundle.path, bundle.id, check=True)
    rt("pause", bundle.id, check=True)
    # the v1 freezer's threads, or (cgroup2 only) the cgroup's own: it is the frozen one
    freezer = os.path.join(V1, "freezer", bundle.linux["cgroupsPath"].lstrip("/"), "tasks")
    if not _v1():
        freezer = os.path.join(V1, bundle.linux["cgroupsPath"].lstrip("/"), "cgroup.threads")
    # The exec'd process cannot exec while frozen: exec -d waits until `resume`.
    with subprocess.Popen(rt.cmd("exec", "-d", "--ignore-paused", bundle.id, "/bin/true"),
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE) as p:
        try:
            # generous: the exec'd runtime starts Python first (slow under qemu TCG)
            deadline = time.monotonic() + 30
            joined = False
            while time.monotonic() < deadline and p.poll() is None:
                with open(freezer) as f:
                    frozen = {int(x) for x in f.read().split()}
                runtime = _threads(p.pid) if os.path.exists(f"/proc/{p.pid}") else set()
                assert not frozen & runtime, "a runtime thread is in the frozen cgroup"
                if len(frozen) > len(_threads(rt.state(bundle.id)["pid"])):
                    joined = True  # the exec'd process has joined
                    break
                time.sleep(0.02)
            assert joined, "the exec process never reached the freezer cgroup"
        finally:
            rt("resume", bundle.id, check=True)
        assert p.wait(timeout=20) == 0, p.stderr.read()
