"""The bench runs end to end in quick mode (pyrunc only) and writes well-formed results.

Nothing here asserts a time: only that every scenario ran, that the JSON has the
shape docs/ and the plot rely on, and that nothing is left on the host.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.bench.host import REPO, cgroup_dirs
from tests.bench.markdown import render
from tests.bench.plot import plot
from tests.bench.stats import compare, growth
from tests.support.runtime import binary

LIFECYCLE = ("run", "create", "state", "start", "delete", "exec", "kill")


def test_quick_run_writes_well_formed_json(tmp_path):
    parent = f"/pyrunc-bench-smoke-{os.getpid()}"
    unified = os.path.ismount("/sys/fs/cgroup/unified")
    out = tmp_path / "out"
    p = subprocess.run(
        [sys.executable, "-m", "tests.bench", "--quick", "--runtime", f"pyrunc={binary()}",
         "--out", str(out), "--cgroup-parent", parent],
        cwd=REPO, capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "Traceback" not in p.stderr
    result = json.loads((out / "results.json").read_text())

    meta = result["meta"]
    assert meta["cgroup_layout"] == "private-v1"  # the default
    assert meta["leftovers"] == []
    assert cgroup_dirs(parent) == []
    assert meta["quick"] and meta["runtimes"]["pyrunc"]["version"]
    n, seq = meta["root_count"], meta["seq_count"]

    timings = result["timings"]
    expected = [*LIFECYCLE, f"seq{seq}x1-total", f"seq{seq}x2-total",
                "list@1", "list-json@1", "state@1", f"list@{n}", f"list-json@{n}", f"state@{n}"]
    assert list(timings) == expected
    for scenario, by_rt in timings.items():
        e = by_rt["pyrunc"]
        assert e["p10_ms"] <= e["median_ms"] <= e["p90_ms"], scenario
        assert e["median_ms"] > 0 and e["runs"] >= 1
        assert "ratio_to_runc" not in e  # runc was not measured
    for scenario in LIFECYCLE:
        assert timings[scenario]["pyrunc"]["runs"] == meta["rounds"]
        # a Python runtime's peak RSS is megabytes, not the bench's own or zero
        assert 1024 < result["peak_rss"][scenario]["pyrunc"]["median_kib"] < 200 * 1024

    init = result["init_memory"]["pyrunc"]
    for key in ("init_rss_kib", "init_pss_kib", "cgroup_procs_rss_kib", "memcg_usage_kib"):
        assert init[key]["median_kib"] > 0, key

    for mode in ("sequential", "parallel-2"):
        s = result["sequence"][mode]["pyrunc"]
        assert s["n"] == seq and s["total_s"] > 0
        for part in ("per_container", "create", "start", "delete"):
            assert s[part]["first_median_ms"] > 0 and s[part]["last_over_first"] > 0

    root = result["root"]["runtimes"]["pyrunc"]
    assert root["listed"] == n + 1  # the fillers and the probe
    assert root["list_s"] > 0 and root["state_growth"] > 0

    limits = result["memory_limit"]["pyrunc"]
    assert sorted(limits) == sorted(str(x) for x in meta["memory_limits"])
    for e in limits.values():
        assert isinstance(e["pass"], bool)
        assert e["pass"] or e.get("error") or "oom_kills" in e

    # the docs' tables: a row per lifecycle command, the bare interpreter beside the short ones
    text = render(result, "results.json")
    for scenario in LIFECYCLE:
        assert f"\n| {scenario} | " in text, scenario
    assert "| state | " in text and "python3 -S" in text and "waiting init RSS" in text

    # pyrunc alone has no ratios to runc, so the plot is skipped, and says so
    assert "no plot:" in p.stdout and not (out / "ratios.png").exists()
    assert os.path.ismount("/sys/fs/cgroup/unified") == unified  # hidden in its namespace only


def test_hugetlb_is_left_alone_without_crun(tmp_path):
    with open("/sys/fs/cgroup/unified/cgroup.controllers") as f:
        before = f.read()
    parent = f"/pyrunc-bench-smoke-{os.getpid()}"
    p = subprocess.run(
        [sys.executable, "-m", "tests.bench", "--quick", "--scenarios", "lifecycle",
         "--runtime", f"pyrunc={binary()}", "--cgroup-layout", "bind-hugetlb",
         "--out", str(tmp_path), "--cgroup-parent", parent],
        cwd=REPO, capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stdout + p.stderr
    result = json.loads((tmp_path / "results.json").read_text())
    assert result["meta"]["cgroup_layout"] == "bind-hugetlb"
    assert result["meta"]["hugetlb_bound_for_crun"] is False
    assert result["meta"]["leftovers"] == [] and cgroup_dirs(parent) == []
    with open("/sys/fs/cgroup/unified/cgroup.controllers") as f:
        assert f.read() == before


def test_ratios_are_over_runc_median():
    r = compare({"runc": [0.010, 0.020, 0.030], "pyrunc": [0.010, 0.010, 0.010]}, 1e3, "ms")
    assert r["runc"]["ratio_to_runc"] == 1.0
    assert r["pyrunc"]["median_ms"] == 10.0 and r["pyrunc"]["ratio_to_runc"] == 0.5


def test_growth_compares_first_and_last():
    g = growth([1.0] * 10 + [5.0] * 80 + [2.0] * 10)
    assert g["last_over_first"] == 2.0 and g["k"] == 10


def test_plot_of_ratios(tmp_path):
    entry = {"median_ms": 1.0, "p10_ms": 0.9, "p90_ms": 1.1, "runs": 3, "ratio_to_runc": 1.5,
             "ratio_p10": 1.4, "ratio_p90": 1.7}
    result = {"meta": {"date": "today", "rounds": 3, "quick": True},
              "timings": {"run": {"runc": dict(entry, ratio_to_runc=1.0), "pyrunc": entry}},
              "peak_rss": {}, "init_memory": {}}
    png = tmp_path / "p.png"
    why = plot(result, str(png))
    try:
        import matplotlib  # noqa: F401  (the bench's optional dependency)
    except ImportError:
        assert why and "matplotlib" in why and not png.exists()
    else:
        assert why is None and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_clients_only_when_asked():
    from tests.bench.cli import parse_args

    assert "clients" not in parse_args([]).scenarios  # it needs the client suite's set-up
    assert "clients" in parse_args(["--all"]).scenarios
    assert parse_args(["--quick"]).client_rounds == 2
