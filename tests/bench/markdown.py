"""The bench's results as the Markdown tables of docs/performance.md.

    python -m tests.bench.markdown docs/bench/results.json [MORE.json ...]

One table per result file: each scenario's median and p10-p90 per runtime, wall
time and CPU time, with the ratio to runc of the same run; then the sequences,
the waiting init, the root with many containers and the clients, where the run
has them.  The docs quote these tables as printed, so that a figure there can be
traced to a JSON file in docs/bench/.
"""

from __future__ import annotations

import json
import sys

BARE = "python3 -S"  # tests/bench/cli.py: the bare interpreter's row


def bold_ratio(ratio: float | None) -> str:
    """The ratio to runc as the tables show it after a figure ("" without one)."""
    return "" if ratio is None else f" **{ratio:.2f}**"


def cell(e: dict | None) -> str:
    """A timing: median (p10-p90) ms and its ratio to runc."""
    if not e:
        return ""
    return (f"{e['median_ms']:.1f} ({e['p10_ms']:.1f}-{e['p90_ms']:.1f})"
            + bold_ratio(e.get("ratio_to_runc")))


def runtimes_of(result: dict) -> list[str]:
    return list(result["meta"]["runtimes"])


def table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |",
             "| --- |" + " ---: |" * (len(header) - 1)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def per_call(result: dict, key: str, title: str) -> str:
    names = runtimes_of(result)
    data = result.get(key, {})
    bare = any(BARE in by_rt for by_rt in data.values())
    rows = []
    for scenario, by_rt in data.items():
        if scenario.startswith(("seq", "list", "state@")):
            continue  # the sequences and the root have tables of their own
        over = ""
        if BARE in by_rt and "pyrunc" in by_rt:  # issue 21: within 1 ms of the interpreter
            over = f"{by_rt['pyrunc']['median_ms'] - by_rt[BARE]['median_ms']:+.1f}"
        rows.append([scenario] + [cell(by_rt.get(n)) for n in names]
                    + ([cell(by_rt.get(BARE)), over] if bare else []))
    header = [f"{title}, ms"] + names + ([BARE, f"pyrunc - {BARE}"] if bare else [])
    return table(header, rows)


def sequences(result: dict) -> str:
    seq = result.get("sequence", {})
    if not seq:
        return ""
    names = runtimes_of(result)
    cpu = result.get("cpu", {})
    rows = []
    for by_rt in seq.values():
        first = next(iter(by_rt.values()))
        n, workers = first["n"], first["workers"]
        base = by_rt.get("runc", {}).get("total_s")
        rows.append([f"{n} x create, start, delete ({workers} worker{'s' * (workers > 1)}): "
                     "wall s"] + [_total(by_rt.get(x, {}).get("total_s"), base) for x in names])
        by_cpu = cpu.get(f"seq{n}x{workers}-total", {})
        base_cpu = by_cpu.get("runc", {}).get("median_ms")
        rows.append(["the same: CPU s"] + [
            _total(by_cpu[x]["median_ms"] / 1e3 if x in by_cpu else None,
                   base_cpu / 1e3 if base_cpu else None) for x in names])
    return table(["back to back, no gap"] + names, rows)


def _total(x: float | None, base: float | None) -> str:
    if x is None:
        return ""
    return f"{x:.2f}" + bold_ratio(x / base if base else None)


def memory(result: dict) -> str:
    init = result.get("init_memory", {})
    if not init:
        return ""
    names = [n for n in runtimes_of(result) if n in init]
    rows = []
    for key, label in (("init_rss_kib", "waiting init RSS, MiB"),
                       ("init_pss_kib", "waiting init PSS, MiB"),
                       ("memcg_usage_kib", "its memory cgroup's charge, MiB")):
        row = [label]
        for n in names:
            e = init[n].get(key)
            row.append("" if not e else f"{e['median_kib'] / 1024:.1f}"
                       + bold_ratio(e.get("ratio_to_runc")))
        rows.append(row)
    peak = result.get("peak_rss", {})
    for scenario in ("run", "create", "state"):
        if scenario in peak:
            rows.append([f"peak RSS of `{scenario}`, MiB"] + [
                f"{peak[scenario][n]['median_kib'] / 1024:.1f}" if n in peak[scenario] else ""
                for n in names])
    limits = result.get("memory_limit", {})
    if limits:
        sizes = sorted({int(k) for by_limit in limits.values() for k in by_limit}, reverse=True)
        label = " / ".join(f"{x // 1024} KiB" for x in sizes)
        rows.append([f"/bin/true under a {label} memory limit"] + [
            " / ".join("pass" if limits[n].get(str(x), {}).get("pass") else "fail"
                       for x in sizes) if n in limits else "" for n in names])
    return table(["memory"] + names, rows)


def root(result: dict) -> str:
    r = result.get("root", {})
    if not r.get("runtimes"):
        return ""
    names = list(r["runtimes"])
    base = r["runtimes"].get("runc", {}).get("list_s")
    rows = [[f"`list`, {r['n']} containers, ms"] + [
        f"{r['runtimes'][n]['list_s'] * 1e3:.1f}"
        + bold_ratio(r["runtimes"][n]["list_s"] / base if base else None) for n in names],
        [f"`state` with {r['n']} over `state` with 1"] + [
        f"{r['runtimes'][n]['state_growth']:.2f}" for n in names]]
    return table(["root"] + names, rows)


def clients(result: dict) -> str:
    c = result.get("clients", {})
    if not c.get("clients"):
        return ""
    by_client = c["clients"]
    names = list(next(iter(by_client.values())))
    rows = [[f"`{client} run --rm`"] + [cell(by_rt.get(n)) for n in names]
            for client, by_rt in by_client.items()]
    return table([f"clients ({c['meta']['cgroup_driver']} driver), wall ms"] + names, rows)


def render(result: dict, path: str) -> str:
    meta = result["meta"]
    versions = ", ".join(v["version"] for v in meta["runtimes"].values())
    load = f"{meta['loadavg_start'][0]:.1f} to {meta['loadavg_end'][0]:.1f}"
    parts = [f"`{path}`: {meta['date']}, {meta['rounds']} rounds, gap "
             f"{meta['gap_seconds']} s, {meta['cgroup_driver']} driver, "
             f"{meta.get('cgroup_layout', '')}, kernel {meta['kernel']}, load average {load}; "
             f"{versions}. Median (p10-p90), **ratio to runc**."]
    parts += [per_call(result, "timings", "wall time"), per_call(result, "cpu", "CPU time"),
              sequences(result), memory(result), root(result), clients(result)]
    return "\n\n".join(p for p in parts if p)


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    for path in argv:
        with open(path) as f:
            print(render(json.load(f), path) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
