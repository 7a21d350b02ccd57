"""Many runtime commands at once: distinct containers, one id, readers while
containers come and go, kill racing delete. Every command ends, none prints a
traceback, and nothing is left behind."""

from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from tests.robustness.leftovers import assert_no_bug_output, assert_one_clear_line, found
from tests.support import leaks

STATUSES = {"creating", "created", "running", "paused", "stopped"}


def _lifecycle(rt, b) -> list[str]:
    """create, start, wait for the exit, delete; returns what went wrong."""
    problems = []
    for args in (("create", "-b", b.path, b.id), ("start", b.id)):
        p = rt(*args, timeout=120)
        if p.returncode != 0 or p.stderr.strip():
            problems.append(f"{args[0]} {b.id}: {p.returncode} {p.stderr.strip()}")
            rt("delete", "--force", b.id, timeout=120)
            return problems
    deadline = time.monotonic() + 60
    while rt.status(b.id) != "stopped":
        if time.monotonic() > deadline:
            problems.append(f"{b.id} never stopped")
            break
        time.sleep(0.05)
    p = rt("delete", b.id, timeout=120)
    if p.returncode != 0:
        problems.append(f"delete {b.id}: {p.stderr.strip()}")
    return problems


def test_50_parallel_lifecycles(rt, make_bundle, cgroup_parent):
    bundles = [make_bundle(f"par{i}") for i in range(50)]
    with ThreadPoolExecutor(max_workers=50) as pool:
        results = list(pool.map(lambda b: _lifecycle(rt, b), bundles))
    assert [p for r in results for p in r] == []
    assert rt.ids() == []
    for b in bundles:
        assert found(rt.root, b.id, cgroup_parent, b.path) == []


def test_20_parallel_creates_of_one_id(rt, make_bundle, cgroup_parent):
    """Exactly one wins; the others fail with one clear line and do not undo the
    winner (its state dir, cgroups and init survive until it is deleted)."""
    b = make_bundle("same")
    b.args("/bin/sleep", "100")
    start = threading.Barrier(20)

    def create(_: int):
        start.wait()
        return rt("create", "-b", b.path, b.id, timeout=120)

    with ThreadPoolExecutor(max_workers=20) as pool:
        results = list(pool.map(create, range(20)))
    winners = [p for p in results if p.returncode == 0]
    assert len(winners) == 1, [p.stderr for p in results]
    for p in results:
        if p.returncode != 0:
            assert "exists" in assert_one_clear_line(p)
    assert rt.status(b.id) == "created"
    rt("start", b.id, check=True)
    assert rt.status(b.id) == "running"
    rt("delete", "--force", b.id, check=True)
    assert found(rt.root, b.id, cgroup_parent, b.path) == []


def test_state_and_list_while_containers_come_and_go(rt, make_bundle, cgroup_parent):
    bundles = [make_bundle(f"churn{i}") for i in range(4)]
    for b in bundles:
        b.args("/bin/sleep", "0.2")
    stop = threading.Event()
    bad: list[str] = []
    reads = {"list": 0, "state": 0}

    def churn(b) -> None:
        for _ in range(5):
            bad.extend(_lifecycle(rt, b))

    def read() -> None:
        while not stop.is_set():
            p = rt("list", "--format", "json", timeout=60)
            reads["list"] += 1
            if p.returncode != 0 or "Traceback" in p.stderr:
                bad.append(f"list: {p.returncode} {p.stderr}")
                continue
            try:
                for doc in json.loads(p.stdout) or []:
                    if doc["status"] not in STATUSES or not doc["id"]:
                        bad.append(f"list entry {doc}")
            except (ValueError, KeyError, TypeError) as e:
                bad.append(f"list output {p.stdout!r}: {e}")
            for b in bundles:
                p = rt("state", b.id, timeout=60)
                reads["state"] += 1
                if p.returncode != 0:
                    if "does not exist" not in p.stderr or "Traceback" in p.stderr:
                        bad.append(f"state: {p.stderr}")
                    continue
                try:
                    if json.loads(p.stdout)["status"] not in STATUSES:
                        bad.append(f"state {p.stdout}")
                except (ValueError, KeyError) as e:
                    bad.append(f"state output {p.stdout!r}: {e}")

    readers = [threading.Thread(target=read) for _ in range(2)]
    for t in readers:
        t.start()
    try:
        with ThreadPoolExecutor(max_workers=len(bundles)) as pool:
            list(pool.map(churn, bundles))
    finally:
        stop.set()
        for t in readers:
            t.join()
    print(f"reads during churn: {reads}")
    assert bad == []
    assert reads["list"] > 5
    assert rt.ids() == []
    assert [d for d in leaks.cgroup_dirs(cgroup_parent) if "churn" in d] == []


def _race(rt, commands: list[tuple[str, ...]]) -> list:
    barrier = threading.Barrier(len(commands))

    def go(args):
        barrier.wait()
        return rt(*args, timeout=60)

    with ThreadPoolExecutor(max_workers=len(commands)) as pool:
        return list(pool.map(go, commands))


def test_kill_racing_delete(rt, make_bundle, cgroup_parent):
    """kill, kill --all and delete --force at the same moment, 10 times: every
    command ends, errors are one line, and the container is gone without a trace."""
    for i in range(10):
        b = make_bundle(f"kd{i}")
        b.args("/bin/sleep", "100")
        rt("run", "-d", "-b", b.path, b.id, check=True)
        results = _race(rt, [("kill", b.id, "KILL"), ("kill", "--all", b.id, "TERM"),
                             ("delete", "--force", b.id), ("delete", "--force", b.id)])
        for p in results:
            assert_no_bug_output(p)
            if p.returncode != 0:
                assert_one_clear_line(p)
        assert [p.returncode for p in results[2:]] == [0, 0], [p.stderr for p in results]
        assert found(rt.root, b.id, cgroup_parent, b.path) == []


def test_start_racing_delete(rt, make_bundle, cgroup_parent):
    """start and delete --force of a created container at once: either order is
    fine, but nothing may survive the delete (no init left exec'ing, no cgroup)."""
    for i in range(10):
        b = make_bundle(f"sd{i}")
        b.args("/bin/sleep", "100")
        rt("create", "-b", b.path, b.id, check=True)
        pid = rt.state(b.id)["pid"]
        results = _race(rt, [("start", b.id), ("delete", "--force", b.id)])
        for p in results:
            assert_no_bug_output(p)
            if p.returncode != 0:
                assert_one_clear_line(p)
        assert results[1].returncode == 0, results[1].stderr
        deadline = time.monotonic() + 10
        while leaks_alive(pid) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert not leaks_alive(pid)
        assert found(rt.root, b.id, cgroup_parent, b.path) == []


def leaks_alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except OSError:
        return False


def test_pause_racing_delete(rt, make_bundle, cgroup_parent):
    """pause, resume and delete --force at once, 10 times: a freeze landing after
    delete's kill must not leave the container's processes frozen, unkillable."""
    for i in range(10):
        b = make_bundle(f"pd{i}")
        b.sh("sleep 100 & sleep 100 & wait")
        rt("run", "-d", "-b", b.path, b.id, check=True)
        results = _race(rt, [("pause", b.id), ("delete", "--force", b.id), ("resume", b.id),
                             ("pause", b.id)])
        for p in results:
            assert_no_bug_output(p)
            if p.returncode != 0:
                assert_one_clear_line(p)
        assert results[1].returncode == 0, results[1].stderr
        assert found(rt.root, b.id, cgroup_parent, b.path) == []
