"""The bench's scenarios.  Each drives Runners and returns plain data for the JSON result.

lifecycle  `run` of /bin/true; create, state, start, delete (of /bin/true) and exec,
           kill (into / of a running sleep) each on their own; rounds interleaved
           across runtimes.  Records each call's peak RSS and the memory the
           created container's waiting init holds.
sequence   N containers created, then started, then deleted, one after another and
           by 2 workers: the total, and whether a container's cost grows as the
           root fills (first 10 against last 10).
root       `list`, `list --format json` and `state` of one created container with
           1 and with N containers in the root.
memlimit   /bin/true created and started under small memory limits: pass or fail.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable

from tests.bench.bundle import SLEEP, TRUE, Bundles
from tests.bench.runner import Runner
from tests.bench.stats import growth


def lifecycle_round(r: Runner, b: Bundles, i: int, memory: dict[str, list[int]]) -> None:
    cid = f"run-{i}"
    r.call("run", cid, cwd=b.make(r.name, cid), scenario="run")

    cid = f"life-{i}"
    r.call("create", cid, cwd=b.make(r.name, cid), scenario="create")
    state = r.call("state", cid, scenario="state")
    for k, v in init_memory(r, b, cid, json.loads(state.stdout)["pid"]).items():
        memory.setdefault(k, []).append(v)
    r.call("start", cid, scenario="start")
    r.call("delete", "--force", cid, scenario="delete")

    cid = f"exec-{i}"
    r.call("create", cid, cwd=b.make(r.name, cid, SLEEP))
    r.call("start", cid)
    r.call("exec", cid, "/bin/true", scenario="exec")
    r.call("kill", cid, "KILL", scenario="kill")
    r.call("delete", "--force", cid)


def init_memory(r: Runner, b: Bundles, cid: str, pid: int) -> dict[str, int]:
    """KiB held by a created container: its init's RSS and PSS, the RSS of every process
    in its pids cgroup, and what its memory cgroup is charged with."""
    out = {f"init_{k}_kib": v for k, v in smaps_rollup(pid).items()}
    procs_rss = 0
    with open(os.path.join(b.cgroup(r.name, cid, "pids"), "cgroup.procs")) as f:
        for line in f:
            procs_rss += smaps_rollup(int(line)).get("rss", 0)
    out["cgroup_procs_rss_kib"] = procs_rss
    memcg = b.cgroup(r.name, cid, "memory")
    out["memcg_usage_kib"] = read_int(memcg, b.layout.memory_file("usage")) // 1024
    return out


def smaps_rollup(pid: int) -> dict[str, int]:
    out = {}
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                key, _, rest = line.partition(":")
                if key in ("Rss", "Pss"):
                    out[key.lower()] = int(rest.split()[0])
    except (FileNotFoundError, ProcessLookupError):
        pass
    return out


def in_workers(items: list[str], workers: int, fn: Callable[[str], None]) -> float:
    """Apply fn to items by `workers` threads (item k to worker k % workers); wall seconds."""
    errors: list[BaseException] = []

    def work(chunk: list[str]) -> None:
        try:
            for item in chunk:
                fn(item)
        except BaseException as e:  # noqa: B036 - handed to the main thread
            errors.append(e)

    t0 = time.perf_counter()
    if workers == 1:
        work(items)
    else:
        threads = [threading.Thread(target=work, args=(items[k::workers],))
                   for k in range(workers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    dt = time.perf_counter() - t0
    if errors:
        raise errors[0]
    return dt


def sequence(r: Runner, b: Bundles, n: int, workers: int) -> dict:
    """Create all n, start all n, delete all n; per phase and per container costs."""
    cids = [f"seq{workers}-{i}" for i in range(n)]
    bundles = {cid: b.make(r.name, cid) for cid in cids}
    cost = {phase: dict.fromkeys(cids, 0.0) for phase in ("create", "start", "delete")}
    cpu = dict.fromkeys((f"{p}-{cid}" for p in cost for cid in cids), 0.0)

    def phase(name: str, *args: str) -> Callable[[str], None]:
        def one(cid: str) -> None:
            call = r.call(name, *args, cid, cwd=bundles[cid])
            cost[name][cid] = call.seconds
            cpu[f"{name}-{cid}"] = call.cpu_seconds or 0.0
        return one

    total = 0.0
    total += in_workers(cids, workers, phase("create"))
    total += in_workers(cids, workers, phase("start"))
    total += in_workers(cids, workers, phase("delete", "--force"))
    per_container = [sum(cost[p][cid] for p in cost) for cid in cids]
    r.record(f"seq{n}x{workers}-total", total)
    if r.spawner:  # and the CPU it took, which a loaded machine moves far less
        r.cpu[f"seq{n}x{workers}-total"] = [sum(cpu.values())]
    out = {"n": n, "workers": workers, "total_s": total,
           "per_container": growth(per_container)}
    for p in cost:
        out[p] = growth([cost[p][cid] for cid in cids])
    return out


class RootScenario:
    """One created probe container, then the root filled with n stopped containers.

    The filler containers are real: created and started /bin/true, so each leaves
    a stopped container (state and empty cgroups, no process) until deleted.
    """

    PROBE = "probe"

    def __init__(self, runners: list[Runner], b: Bundles, n: int) -> None:
        self.runners, self.b, self.n = runners, b, n
        self.fill_s: dict[str, float] = {}
        self.seen: dict[str, int] = {}

    def setup_probe(self) -> None:
        for r in self.runners:
            r.call("create", self.PROBE, cwd=self.b.make(r.name, self.PROBE))

    def measure(self, label: str) -> None:
        for r in self.runners:
            r.call("list", scenario=f"list@{label}")
            js = r.call("list", "--format", "json", scenario=f"list-json@{label}")
            self.seen[r.name] = len(json.loads(js.stdout) or [])
            r.call("state", self.PROBE, scenario=f"state@{label}")

    def fill(self) -> None:
        for r in self.runners:
            cids = [f"fill-{i}" for i in range(self.n)]
            bundles = {cid: self.b.make(r.name, cid) for cid in cids}

            def one(cid: str, r: Runner = r, bundles: dict = bundles) -> None:
                r.call("create", cid, cwd=bundles[cid])
                r.call("start", cid)

            self.fill_s[r.name] = in_workers(cids, 2, one)

    def empty(self) -> None:
        for r in self.runners:
            def one(cid: str, r: Runner = r) -> None:
                # Not timed; one that fails (crun 1.8.1's "open pidfd" on a loaded host)
                # is tried again at the end (delete_all) and reported if it stays.
                r.call("delete", "--force", cid, check=False)

            in_workers(r.ids(), 2, one)


def memlimit(r: Runner, b: Bundles, limits: list[int]) -> dict:
    """Create and start /bin/true under each memory limit.  It passes when both succeed,
    the limit is in the container's memory cgroup, and nothing in it was OOM-killed."""
    out = {}
    for limit in limits:
        cid = f"mem-{limit}"
        memcg = b.cgroup(r.name, cid, "memory")
        entry: dict = {"pass": False}
        try:
            for step in ("create", "start"):
                c = r.call(step, cid, cwd=b.make(r.name, cid, TRUE, memory_limit=limit),
                           check=False, timeout=60)
                if c.returncode != 0:
                    entry["error"] = f"{step}: exit {c.returncode}: " + (
                        c.stderr.splitlines() or [""])[-1][:300]
                    break
                if step == "create":
                    entry["limit_set"] = read_int(memcg, b.layout.memory_file("limit")) == limit
            else:
                wait_stopped(r, cid)
                entry["max_usage_kib"] = read_int(memcg, b.layout.memory_file("peak")) // 1024
                entry["oom_kills"] = oom_kills(os.path.join(memcg, b.layout.memory_file("events")))
                entry["pass"] = entry["limit_set"] and entry["oom_kills"] == 0
        finally:
            r.call("delete", "--force", cid, check=False)
        out[str(limit)] = entry
    return out


def read_int(cgroup: str, name: str) -> int:
    with open(os.path.join(cgroup, name)) as f:
        return int(f.read())


def oom_kills(events: str) -> int:
    """The oom_kill line of memory.oom_control (v1) or memory.events (v2)."""
    with open(events) as f:
        for line in f:
            key, _, value = line.partition(" ")
            if key == "oom_kill":
                return int(value)
    return 0


def wait_stopped(r: Runner, cid: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if json.loads(r.call("state", cid).stdout)["status"] == "stopped":
            return
        time.sleep(0.02)
    raise TimeoutError(f"{r.name}: {cid} did not stop within {timeout:.0f} s")
