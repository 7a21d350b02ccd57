"""A PNG of each runtime's ratio to runc per scenario, with its p10-p90 spread.

matplotlib is the bench's optional dependency (`pip install -e '.[bench]'`);
without it the plot is skipped with one line.
"""

from __future__ import annotations

import os

from tests.bench.report import TARGETS

COLORS = {"pyrunc": "#3572A5", "crun": "#E3A33B", "python3 -S": "#9A9A9A"}


def ratio_rows(result: dict) -> tuple[list[str], dict[str, list[tuple[float, float, float]]]]:
    """Scenario labels and, per runtime other than runc, (ratio, low, high) per label."""
    labels: list[str] = []
    rows: dict[str, dict[str, tuple[float, float, float]]] = {}

    def add(label: str, by_rt: dict, key: str = "ratio_to_runc") -> None:
        labels.append(label)
        for name, e in by_rt.items():
            if name != "runc" and e.get(key) is not None:
                r = e[key]
                rows.setdefault(name, {})[label] = (r, e.get("ratio_p10", r), e.get("ratio_p90", r))

    for scenario, by_rt in result["timings"].items():
        add(scenario, by_rt)
    for cmd in ("run", "create"):
        if cmd in result["peak_rss"]:
            add(f"peak RSS {cmd}", result["peak_rss"][cmd])
    for key, label in (("init_rss_kib", "init RSS"), ("init_pss_kib", "init PSS")):
        by_rt = {n: e[key] for n, e in result["init_memory"].items() if key in e}
        if by_rt:
            add(label, by_rt)
    names = [n for n in ("pyrunc", "crun") if n in rows] + sorted(
        n for n in rows if n not in ("pyrunc", "crun"))
    nan = (float("nan"),) * 3
    return labels, {n: [rows[n].get(label, nan) for label in labels] for n in names}


def plot(result: dict, path: str) -> str | None:
    """Write the PNG; return why not when it cannot be drawn."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        import matplotlib.ticker
    except ImportError:
        return "matplotlib is not installed (pip install -e '.[bench]')"
    labels, rows = ratio_rows(result)
    if not labels or not rows:
        return "no ratios to runc to plot"
    width = 0.8 / len(rows)
    fig, ax = plt.subplots(figsize=(max(8.0, 0.62 * len(labels) + 2), 4.8))
    for k, (name, vals) in enumerate(rows.items()):
        xs = [i + (k - (len(rows) - 1) / 2) * width for i in range(len(labels))]
        mids = [v[0] for v in vals]
        err = [[max(0.0, v[0] - v[1]) for v in vals], [max(0.0, v[2] - v[0]) for v in vals]]
        ax.bar(xs, mids, width, yerr=err, capsize=2, label=name,
               color=COLORS.get(name), edgecolor="black", linewidth=0.4)
    marked = False
    for i, label in enumerate(labels):
        if label in TARGETS:
            ax.hlines(TARGETS[label], i - 0.45, i + 0.45, colors="crimson", linewidth=1.5,
                      label=None if marked else "pyrunc target")
            marked = True
    memory = [i for i, label in enumerate(labels) if label.startswith(("peak RSS", "init "))]
    if memory and memory[0] > 0:  # time on the left, memory on the right
        ax.axvline(memory[0] - 0.5, color="black", linewidth=0.8)
        ax.text(memory[0] - 0.4, 0.98, "memory", transform=ax.get_xaxis_transform(),
                va="top", fontsize=8)
    ax.axhline(1.0, color="gray", linestyle="--", linewidth=1, label="runc = 1")
    ax.set_xticks(range(len(labels)))
    ax.set_xticklabels(labels, rotation=40, ha="right", fontsize=8)
    # A log scale: 0.5x and 2x lie equally far from runc.
    ax.set_yscale("log")
    ticks = [0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20]
    ax.set_yticks(ticks, [f"{t:g}" for t in ticks])
    ax.yaxis.set_minor_locator(matplotlib.ticker.NullLocator())
    ax.set_ylabel("ratio to runc (median; whiskers: p10-p90, log scale)")
    meta = result["meta"]
    ax.set_title(f"pyrunc bench, {meta['date']}, {meta['rounds']} rounds"
                 f"{' (quick)' if meta['quick'] else ''}", fontsize=10)
    ax.legend(fontsize=8)
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return None
