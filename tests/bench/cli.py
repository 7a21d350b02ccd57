"""Side-by-side benchmark of OCI runtimes (issue 9): pyrunc, runc and crun, interleaved.

    python -m tests.bench [--rounds 30] [--quick] [--scenarios lifecycle,sequence,root,memlimit]
                          [--all] [--runtime NAME[=PATH] ...] [--wheel] [--out docs/bench]

Scenarios (tests/bench/scenarios.py): the lifecycle commands each on their own
with peak RSS and the waiting init's memory; 100 containers in sequence and
2-way parallel; list/state with 1,000 containers in the root; small memory
limits.  `clients` (in --all, not in the default: it needs the client suite's
set-up, tests/e2e/setup.sh) times `ctr`, `docker` and `podman run --rm` with
each runtime (tests/bench/clients.py).  Prints medians, p10-p90 and each
runtime's ratio to runc measured in the same run; writes OUT/results.json and
OUT/ratios.png (the plot needs matplotlib: pip install '.[bench]').  Each
runtime gets its own --root and every container a cgroup under --cgroup-parent;
everything is removed at the end and what could not be is reported (exit
status 1).  Runtimes are timed by a small C helper (spawn.c, built with cc into
a temporary directory).

crun refuses this machine's hybrid cgroup layout while cgroup2 holds a
controller.  By default (--cgroup-layout private-v1) the bench hides the cgroup2
mount in a mount namespace of its own, so that all three runtimes see the same
v1-only host and nothing changes for anyone else.  --cgroup-layout bind-hugetlb
instead binds the free hugetlb controller to a v1 hierarchy for the run (said
on stderr) and gives it back to cgroup2 at the end; meanwhile every runtime on
the host makes its cgroups there too, and the hierarchy can only be unmounted
once all of them are gone, including removed ones that unreaped zombies hold.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import shutil
import sys
import tempfile
import time

from conformance.cgroupfs import hide_cgroup2
from tests.bench import host, layout, report, scenarios
from tests.bench.bundle import Bundles
from tests.bench.plot import plot
from tests.bench.runner import CallFailed, Runner, build_spawner
from tests.bench.stats import by_scenario, compare

SCENARIOS = ("lifecycle", "sequence", "root", "memlimit", "clients")
DEFAULT_SCENARIOS = SCENARIOS[:4]
MEMORY_LIMITS = [1 << 20, 512 << 10]
RUN_DIRS = ("/run/pyrunc", "/run/runc", "/run/crun")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="python -m tests.bench",
                                 description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", "--runs", type=int, help="lifecycle rounds (default 30)")
    ap.add_argument("--client-rounds", type=int,
                    help="rounds of each client (default 20; --quick: 2)")
    ap.add_argument("--quick", action="store_true",
                    help="a smoke run: 2 rounds, 10 containers in sequence, 20 in the root")
    ap.add_argument("--all", action="store_true",
                    help="every scenario, the clients included")
    ap.add_argument("--scenarios", default=",".join(DEFAULT_SCENARIOS),
                    help=f"comma-separated subset of {','.join(SCENARIOS)}")
    ap.add_argument("--runtime", action="append", default=[],
                    help="NAME or NAME=PATH, repeatable (default: pyrunc, runc and crun)")
    ap.add_argument("--wheel", action="store_true",
                    help="measure pyrunc as users install it: a wheel of this checkout in a "
                    "fresh venv (tests/bench/wheel.py) instead of .venv/bin/pyrunc")
    ap.add_argument("--seq-count", type=int, help="containers in the sequence (default 100)")
    ap.add_argument("--root-count", type=int,
                    help="containers in the root for list/state (default 1000)")
    ap.add_argument("--out", default=os.path.join(host.REPO, "docs", "bench"),
                    help="directory for results.json and ratios.png (default docs/bench)")
    ap.add_argument("--json", help="the JSON result's path (default OUT/results.json)")
    ap.add_argument("--png", help="the plot's path (default OUT/ratios.png)")
    ap.add_argument("--no-plot", action="store_true")
    ap.add_argument("--cgroup-layout", choices=("private-v1", "bind-hugetlb"),
                    default="private-v1",
                    help="how crun gets a host it accepts: hide cgroup2 in the bench's own mount "
                    "namespace, every runtime then sees v1 only and nothing global changes "
                    "(default); or bind the free hugetlb controller to v1 for the run, which "
                    "changes the host for everyone meanwhile")
    ap.add_argument("--gap", type=float, default=0.1,
                    help="seconds of pause before each timed call (default 0.1): the kernel's "
                    "cgroup migration lock goes idle, as on a host that does not start "
                    "containers back to back, so each runtime pays its own first-migration "
                    "grace period; 0 = back to back, where a call lands in the fast window "
                    "the previous runtime's migration left")
    ap.add_argument("--cgroup-parent", default="/pyrunc-bench",
                    help="the bench's own cgroup parent (default /pyrunc-bench)")
    ap.add_argument("--cgroup-driver", choices=("cgroupfs", "systemd"), default="cgroupfs",
                    help="cgroupfs (default): cgroups under --cgroup-parent; systemd: every "
                    f"runtime with --systemd-cgroup, a scope per container in {layout.SLICE}")
    opts = ap.parse_args(argv)
    chosen = [s for s in opts.scenarios.split(",") if s]
    unknown = set(chosen) - set(SCENARIOS)
    if unknown:
        ap.error(f"unknown scenario {', '.join(sorted(unknown))} (choose from {SCENARIOS})")
    opts.scenarios = SCENARIOS if opts.all else chosen
    quick = opts.quick
    opts.rounds = opts.rounds or (2 if quick else 30)
    opts.seq_count = opts.seq_count or (10 if quick else 100)
    opts.root_count = opts.root_count or (20 if quick else 1000)
    opts.client_rounds = opts.client_rounds or (2 if quick else 20)
    if not opts.cgroup_parent.startswith("/") or opts.cgroup_parent == "/":
        ap.error("--cgroup-parent must be an absolute path below /")
    return opts


def run_dir_entries(ids: set[str]) -> set[str]:
    """State of these container ids in the runtimes' default roots (the bench never uses
    them: every runtime gets its own --root); only ids, as other work may use /run too."""
    paths = {os.path.join(d, i) for d in RUN_DIRS for i in ids}
    return {p for p in paths if os.path.lexists(p)}


# The short commands' floor (issue 21): the bare interpreter, timed as they are.
SHORT = ("start", "state", "kill", "delete")
BARE = "python3 -S"


def bare_interpreter(base: str, spawner: str | None, gap: float) -> Runner:
    """A "runtime" that is `python3 -S` running an empty script (so any arguments are
    fine): what every pyrunc command pays before its first line."""
    stub = os.path.join(base, "python3-S")
    with open(stub, "w") as f:
        f.write(f"#!{os.path.realpath(sys.executable)} -S\n")
    os.chmod(stub, 0o755)
    return Runner(BARE, stub, os.path.join(base, "root", "bare"), spawner=spawner, gap=gap)


def measure(opts: argparse.Namespace, runners: list[Runner], b: Bundles, out: dict,
            bare: Runner | None = None) -> None:
    if "lifecycle" in opts.scenarios:
        for r in runners:  # warm caches once, unmeasured
            scenarios.lifecycle_round(r, b, -1, {})
            r.samples.clear()
            r.rss.clear()
            r.cpu.clear()
        for i in range(opts.rounds):
            for r in runners:  # interleaved, so drift hits every runtime alike
                scenarios.lifecycle_round(r, b, i, r.memory)
            for scenario in SHORT if bare else ():
                bare.call(scenario, "-", scenario=scenario)
    if "sequence" in opts.scenarios:
        for workers in (1, 2):
            mode = "sequential" if workers == 1 else "parallel-2"
            for r in runners:
                out["sequence"].setdefault(mode, {})[r.name] = scenarios.sequence(
                    r, b, opts.seq_count, workers)
    if "root" in opts.scenarios:
        root = scenarios.RootScenario(runners, b, opts.root_count)
        root.setup_probe()
        for _ in range(opts.rounds):
            root.measure("1")
        root.fill()
        for _ in range(opts.rounds):
            root.measure(str(opts.root_count))
        out["root"] = {"n": opts.root_count, "fill": "created and started /bin/true "
                       "(stopped containers, no processes), 2 workers", "seen": root.seen,
                       "fill_s": root.fill_s}
        root.empty()
    if "memlimit" in opts.scenarios:
        for r in runners:
            out["memory_limit"][r.name] = scenarios.memlimit(r, b, MEMORY_LIMITS)
    if "clients" in opts.scenarios:
        from tests.bench import clients  # pytest and the client suite: only for this

        out["clients"] = clients.run(list(clients.CLIENTS), opts.client_rounds,
                                     {r.name: r.path for r in runners}, opts.cgroup_driver,
                                     out["meta"]["client_leftovers"])


def summarize(runners: list[Runner], out: dict, bare: Runner | None = None) -> None:
    timed = runners + ([bare] if bare and bare.samples else [])
    out["timings"] = {s: compare(xs, 1e3, "ms") for s, xs in
                      by_scenario({r.name: r.samples for r in timed}).items()}
    out["cpu"] = {s: compare(xs, 1e3, "ms") for s, xs in
                  by_scenario({r.name: r.cpu for r in timed}).items()}
    out["peak_rss"] = {s: compare(xs, 1, "kib") for s, xs in
                       by_scenario({r.name: r.rss for r in runners}).items()}
    per_key = by_scenario({r.name: r.memory for r in runners})
    for key, xs in per_key.items():
        for name, e in compare(xs, 1, "kib").items():
            out["init_memory"].setdefault(name, {})[key] = e
    root = out["root"]
    if root:
        n, t = root["n"], out["timings"]
        root["runtimes"] = {
            r.name: {"list_s": t[f"list@{n}"][r.name]["median_ms"] / 1e3,
                     "list_json_s": t[f"list-json@{n}"][r.name]["median_ms"] / 1e3,
                     "state_growth": t[f"state@{n}"][r.name]["median_ms"]
                     / t["state@1"][r.name]["median_ms"],
                     "listed": root["seen"][r.name], "fill_s": root["fill_s"][r.name]}
            for r in runners}


def main(argv: list[str] | None = None) -> int:
    opts = parse_args(argv)
    started = time.monotonic()
    if os.geteuid() != 0:
        print("bench: needs root (namespaces, cgroups, mounts)", file=sys.stderr)
        return 2
    runtimes = host.resolve_runtimes(opts.runtime)
    try:
        cgroups = layout.Layout.detect(opts.cgroup_driver, opts.cgroup_parent)
    except OSError as e:
        print(f"bench: {e}", file=sys.stderr)
        return 2
    base = tempfile.mkdtemp(prefix="pyrunc-bench-")
    if opts.wheel:
        from tests.bench.wheel import with_wheel

        print("bench: pyrunc from a wheel of this checkout in a fresh venv", file=sys.stderr)
        runtimes = with_wheel(runtimes, base)
    spawner = build_spawner(base)
    if spawner is None:
        print("bench: no C compiler for tests/bench/spawn.c: timing from Python, "
              "no peak RSS", file=sys.stderr)
    runners = [Runner(n, p, os.path.join(base, "root", n), spawner=spawner, gap=opts.gap,
                      global_args=cgroups.global_args()) for n, p in runtimes.items()]
    out: dict = {"meta": {
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "kernel": platform.release(), "cpus": os.cpu_count(), "loadavg_start": os.getloadavg(),
        "rounds": opts.rounds, "quick": opts.quick, "scenarios": list(opts.scenarios),
        "seq_count": opts.seq_count, "root_count": opts.root_count,
        "memory_limits": MEMORY_LIMITS, "cgroup_parent": opts.cgroup_parent,
        "gap_seconds": opts.gap, "cgroup_driver": opts.cgroup_driver,
        "timed_by": "tests/bench/spawn.c" if spawner else "python",
        "runtimes": {n: {"path": p, "version": host.version(p)} for n, p in runtimes.items()},
        "client_leftovers": []},
        "sequence": {}, "root": {}, "memory_limit": {}, "init_memory": {}, "clients": {}}
    bound = False
    try:
        if cgroups.unified:
            print("bench: cgroup2 alone at /sys/fs/cgroup: every runtime takes the host as "
                  "it is", file=sys.stderr)
        elif opts.cgroup_layout == "private-v1":
            hide_cgroup2()
            print("bench: cgroup2 hidden in the bench's own mount namespace: every runtime "
                  "sees a v1-only host", file=sys.stderr)
        elif "crun" in runtimes:
            host.lock_hugetlb()  # held until the bench exits
            bound = host.bind_hugetlb_for_crun()
    except OSError as e:
        shutil.rmtree(base, ignore_errors=True)
        print(f"bench: {e}", file=sys.stderr)
        return 2
    except host.HugetlbBusy as e:
        if opts.runtime:  # crun was asked for by name
            shutil.rmtree(base, ignore_errors=True)
            print(f"bench: {e}; measure without crun or retry later", file=sys.stderr)
            return 2
        print(f"bench: {e}; measuring without crun", file=sys.stderr)
        bound = False
        runners = [r for r in runners if r.name != "crun"]
        del out["meta"]["runtimes"]["crun"]
    out["meta"]["cgroup_layout"] = "unified" if cgroups.unified else opts.cgroup_layout
    out["meta"]["hugetlb_bound_for_crun"] = bound
    failure = None
    try:
        b = Bundles(base, cgroups)
        bare = bare_interpreter(base, spawner, opts.gap)
        measure(opts, runners, b, out, bare)
    except (CallFailed, OSError, RuntimeError) as e:  # one line, not a traceback
        failure = str(e)
    except KeyboardInterrupt:
        failure = "interrupted"
    finally:
        for r in runners:  # anything a failed scenario left
            r.delete_all()
        left = [f"cgroup {d}" for d in cgroups.clean()]
        left += out["meta"].pop("client_leftovers")
        left += host.leftovers(base, [r.root for r in runners])
        left += [f"state {p}" for p in sorted(run_dir_entries(set().union(
            *(r.created for r in runners))))]
        shutil.rmtree(base, ignore_errors=True)
        if bound and not host.release_hugetlb():
            left.append("hugetlb is not back on cgroup2")
    out["meta"]["leftovers"] = left
    out["meta"]["loadavg_end"] = os.getloadavg()
    if failure:
        print(f"bench: {failure}", file=sys.stderr)
        if left:
            print("bench: LEFT BEHIND: " + "; ".join(left), file=sys.stderr)
        return 1
    summarize(runners, out, bare)
    out["targets"] = {"ratio_to_runc": report.TARGETS, "list_budget_s": report.LIST_BUDGET_S,
                      "growth_limit": report.GROWTH_LIMIT}
    out["meta"]["duration_s"] = round(time.monotonic() - started, 1)
    report.print_all(out)
    json_path = opts.json or os.path.join(opts.out, "results.json")
    report.write_json(out, json_path)
    print(f"\nbench: wrote {json_path}")
    if not opts.no_plot:
        png = opts.png or os.path.join(opts.out, "ratios.png")
        why = plot(out, png)
        print(f"bench: {'wrote ' + png if why is None else 'no plot: ' + why}")
    return 1 if left else 0
