"""Print the bench's result as tables and write it as JSON."""

from __future__ import annotations

import json
import os

# pyrunc's median over runc's, in the same run: issue 21's for run, create and exec
# (issue 9's were 0.7, 0.8, 0.8); the short commands keep issue 9's 1.0, which the
# interpreter's start alone exceeds (issue 21 measures them against `python3 -S`).
TARGETS = {"run": 0.6, "create": 0.7, "start": 1.0, "state": 1.0, "kill": 1.0, "delete": 1.0,
           "exec": 0.7}
LIST_BUDGET_S = 1.0  # `list` with 1,000 containers
GROWTH_LIMIT = 1.25  # last 10 over first 10 beyond this: the cost grows


def fmt_ratio(ratio: float | None) -> str:
    return "-" if ratio is None else f"{ratio:.2f}"


def verdict(ratio: float | None, target: float | None) -> str:
    if ratio is None or target is None:
        return ""
    return "ok" if ratio <= target else "MISS"


def print_timings(timings: dict, title: str = "time") -> None:
    if not timings:
        return
    print(f"\n{title}: median, p10-p90 and ratio to runc (target: issues 9 and 21)")
    print(f"{'scenario':<16} {'runtime':<8} {'median ms':>10} {'p10-p90 ms':>16} "
          f"{'x runc':>7} {'target':>7}")
    for scenario, by_rt in timings.items():
        for name, e in by_rt.items():
            ratio = e.get("ratio_to_runc")
            target = TARGETS.get(scenario) if name == "pyrunc" else None
            shown = fmt_ratio(ratio)
            spread = f"{e['p10_ms']:.1f}-{e['p90_ms']:.1f}"
            goal = f"<={target:.1f} {verdict(ratio, target)}" if target else ""
            print(f"{scenario:<16} {name:<8} {e['median_ms']:>10.1f} {spread:>16} {shown:>7} "
                  f"{goal:>7}")


def print_memory(peak: dict, init: dict) -> None:
    if peak:
        print("\npeak RSS of the runtime process (ru_maxrss), median MiB")
        print(f"{'command':<16} {'runtime':<8} {'MiB':>8} {'x runc':>7}")
        for cmd, by_rt in peak.items():
            for name, e in by_rt.items():
                print(f"{cmd:<16} {name:<8} {e['median_kib'] / 1024:>8.1f} "
                      f"{fmt_ratio(e.get('ratio_to_runc')):>7}")
    if init:
        print("\na created container's waiting init, median MiB (init RSS and PSS, RSS of the "
              "processes in its cgroup, its memcg charge); target: RSS below runc's")
        print(f"{'runtime':<8} {'RSS':>7} {'x runc':>7} {'PSS':>7} {'procs':>7} {'memcg':>7}")
        for name, e in init.items():
            rss = e.get("init_rss_kib", {})
            cols = [e.get(k, {}).get("median_kib") for k in
                    ("init_pss_kib", "cgroup_procs_rss_kib", "memcg_usage_kib")]
            print(f"{name:<8} {mib(rss.get('median_kib')):>7} "
                  f"{fmt_ratio(rss.get('ratio_to_runc')):>7} "
                  + " ".join(f"{mib(c):>7}" for c in cols))


def mib(kib: float | None) -> str:
    return "-" if kib is None else f"{kib / 1024:.1f}"


def print_sequence(seq: dict) -> None:
    if not seq:
        return
    print("\ncontainers created, then started, then deleted: the total, the per-container cost "
          "(create+start+delete)\nof the first 10 and the last 10, and each phase's last 10 over "
          "first 10 (growth as the root fills; delete: as it empties)")
    print(f"{'mode':<10} {'runtime':<8} {'total s':>8} {'x runc':>7} {'first ms':>9} "
          f"{'last ms':>8} {'growth':>7} {'create':>7} {'start':>7} {'delete':>7}")
    for mode, by_rt in seq.items():
        base = by_rt.get("runc", {}).get("total_s")
        for name, e in by_rt.items():
            g = e["per_container"]
            ratio = fmt_ratio(e["total_s"] / base if base else None)
            grows = [g["last_over_first"]] + [e[p]["last_over_first"]
                                              for p in ("create", "start", "delete")]
            # the target is on the whole container's cost; a phase alone is a hint
            flag = " grows" if grows[0] and grows[0] > GROWTH_LIMIT else ""
            print(f"{mode:<10} {name:<8} {e['total_s']:>8.2f} {ratio:>7} "
                  f"{g['first_median_ms']:>9.1f} {g['last_median_ms']:>8.1f} "
                  + " ".join(f"{fmt_ratio(x):>7}" for x in grows) + flag)


def print_root(root: dict) -> None:
    if not root:
        return
    n = root["n"]
    print(f"\nroot with {n} containers (filled with {root['fill']}): list under "
          f"{LIST_BUDGET_S:.0f} s, state as with 1")
    for name, e in root["runtimes"].items():
        ok = "ok" if e["list_s"] < LIST_BUDGET_S else "MISS"
        print(f"{name:<8} list {e['list_s'] * 1e3:7.1f} ms ({ok}), state@{n} over state@1 "
              f"{e['state_growth']:.2f}, listed {e['listed']}, fill {e['fill_s']:.1f} s")


def print_memlimit(ml: dict) -> None:
    if not ml:
        return
    print("\n/bin/true created and started under a memory limit (set, and no OOM kill)")
    for name, by_limit in ml.items():
        cells = [f"{int(lim) // 1024} KiB: " + (
            f"pass (peak {e['max_usage_kib']} KiB)" if e["pass"] else "FAIL")
            for lim, e in by_limit.items()]
        print(f"{name:<8} " + ", ".join(cells))
        for lim, e in by_limit.items():
            if not e["pass"]:
                why = e.get("error") or (f"limit set: {e.get('limit_set')}, "
                                         f"OOM kills: {e.get('oom_kills')}")
                print(f"{'':<8}   {int(lim) // 1024} KiB: {why}")


def print_clients(clients: dict) -> None:
    if not clients:
        return
    meta = clients["meta"]
    print(f"\n`CLIENT run --rm` of /bin/true, wall ms, median (p10-p90), x runc "
          f"({meta['cgroup_driver']} driver, {meta['rounds']} rounds)")
    for client, by_rt in clients["clients"].items():
        for name, e in by_rt.items():
            print(f"{client:7} {name:8} {e['median_ms']:8.1f} ({e['p10_ms']:.1f}-"
                  f"{e['p90_ms']:.1f})  {fmt_ratio(e.get('ratio_to_runc'))}")


def print_all(result: dict) -> None:
    print_timings(result["timings"])
    # CPU time moves far less than wall time when others load the machine.
    print_timings(result.get("cpu", {}), "CPU time (user + system, with reaped children)")
    print_memory(result["peak_rss"], result["init_memory"])
    print_sequence(result["sequence"])
    print_root(result["root"])
    print_memlimit(result["memory_limit"])
    print_clients(result.get("clients", {}))
    if result["meta"]["leftovers"]:
        print("\nLEFT BEHIND: " + "; ".join(result["meta"]["leftovers"]))


def write_json(result: dict, path: str) -> None:
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w") as f:
        json.dump(result, f, indent=1)
        f.write("\n")
