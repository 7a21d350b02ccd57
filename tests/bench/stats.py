"""Medians, p10-p90 spread and ratios to runc measured in the same run."""

from __future__ import annotations

import statistics

BASELINE = "runc"


def spread(xs: list[float]) -> tuple[float, float, float]:
    """(p10, median, p90); with fewer than two samples all three are the one value."""
    if len(xs) < 2:
        return xs[0], xs[0], xs[0]
    q = statistics.quantiles(xs, n=10, method="inclusive")
    return q[0], statistics.median(xs), q[-1]


def compare(by_runtime: dict[str, list[float]], scale: float = 1.0, unit: str = "ms") -> dict:
    """{runtime: {median, p10, p90, runs, ratio_to_runc, ratio_p10, ratio_p90}} in `unit`.

    The ratio's spread is the runtime's p10 and p90 over runc's median, so it
    shows how far this runtime's own noise reaches relative to the baseline.
    """
    out: dict = {}
    base = by_runtime.get(BASELINE)
    base_med = statistics.median(base) if base else None
    for name, xs in by_runtime.items():
        if not xs:
            continue
        p10, med, p90 = spread(xs)
        e = {f"median_{unit}": med * scale, f"p10_{unit}": p10 * scale,
             f"p90_{unit}": p90 * scale, "runs": len(xs)}
        if base_med:
            e.update(ratio_to_runc=med / base_med, ratio_p10=p10 / base_med,
                     ratio_p90=p90 / base_med)
        out[name] = e
    return out


def by_scenario(per_runtime: dict[str, dict[str, list[float]]]) -> dict[str, dict[str, list]]:
    """{runtime: {scenario: xs}} into {scenario: {runtime: xs}}, in first-seen order."""
    out: dict[str, dict[str, list]] = {}
    for name, scen in per_runtime.items():
        for s, xs in scen.items():
            out.setdefault(s, {})[name] = xs
    return out


def growth(xs: list[float], k: int = 10) -> dict:
    """Median of the first k against the last k: does a per-container cost grow?"""
    k = max(1, min(k, len(xs) // 2))
    first, last = statistics.median(xs[:k]), statistics.median(xs[-k:])
    return {"first_median_ms": first * 1e3, "last_median_ms": last * 1e3,
            "last_over_first": last / first if first else None, "k": k}
