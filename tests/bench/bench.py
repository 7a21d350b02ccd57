"""Side-by-side benchmark of OCI runtimes on one busybox bundle, interleaved in one run.

    python -m tests.bench.bench [--runs 30] [--runtime NAME=PATH ...] [--json FILE]

Scenarios: `run` of /bin/true (the whole lifecycle), and create / start / state /
kill / delete each on their own.  Prints median, p10-p90 and each runtime's
ratio to runc measured in the same run.

crun refuses this machine's hybrid cgroup layout while cgroup2 holds a
controller; when crun is measured, the free hugetlb controller is bound to a
v1 hierarchy first (said on stderr) and released again at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEFAULT_RUNTIMES = {
    "pyrunc": os.path.join(REPO, ".venv", "bin", "pyrunc"),
    "runc": shutil.which("runc") or "/usr/sbin/runc",
    "crun": shutil.which("crun") or "/usr/bin/crun",
}
CGROUP_PARENT = "/pyrunc-bench"
HUGETLB_V1 = "/sys/fs/cgroup/hugetlb"


def make_bundle(base: str) -> str:
    sys.path.insert(0, REPO)
    from runtime.demo_bundle import make_rootfs
    from spec.defaults import default_config

    bundle = os.path.join(base, "bundle")
    os.makedirs(bundle)
    make_rootfs(os.path.join(bundle, "rootfs"))
    cfg = default_config()
    cfg["process"]["terminal"] = False
    cfg["process"]["args"] = ["/bin/true"]
    cfg["ociVersion"] = "1.0.2"  # crun 1.8.1 refuses versions newer than it knows
    with open(os.path.join(bundle, "config.json"), "w") as f:
        json.dump(cfg, f)
    return bundle


def set_cgroup(bundle: str, cid: str) -> None:
    path = os.path.join(bundle, "config.json")
    with open(path) as f:
        cfg = json.load(f)
    cfg["linux"]["cgroupsPath"] = f"{CGROUP_PARENT}/{cid}"
    with open(path, "w") as f:
        json.dump(cfg, f)


def bind_hugetlb_for_crun() -> bool:
    """Bind hugetlb to v1 if cgroup2 holds it (crun refuses hybrid otherwise)."""
    try:
        with open("/sys/fs/cgroup/unified/cgroup.controllers") as f:
            if "hugetlb" not in f.read().split():
                return False
    except OSError:
        return False
    print("bench: binding the hugetlb controller to a v1 hierarchy at "
          f"{HUGETLB_V1} so that crun accepts this hybrid host", file=sys.stderr)
    os.makedirs(HUGETLB_V1, exist_ok=True)
    subprocess.run(["mount", "-t", "cgroup", "-o", "hugetlb", "hugetlb", HUGETLB_V1], check=True)
    return True


def release_hugetlb() -> None:
    """Unmount hugetlb so that cgroup2 gets it back.  The kernel keeps an unmounted
    v1 hierarchy alive (invisible) while it is busy, so check and retry."""
    for _ in range(5):
        for dirpath, _dirs, _files in sorted(os.walk(HUGETLB_V1), key=lambda t: -len(t[0])):
            if dirpath != HUGETLB_V1:
                try:
                    os.rmdir(dirpath)
                except OSError:
                    pass
        subprocess.run(["umount", HUGETLB_V1], check=False)
        time.sleep(2)
        with open("/sys/fs/cgroup/unified/cgroup.controllers") as f:
            if "hugetlb" in f.read().split():
                break
        subprocess.run(["mount", "-t", "cgroup", "-o", "hugetlb", "hugetlb", HUGETLB_V1],
                       check=False)
    else:
        print("bench: hugetlb did not return to cgroup2", file=sys.stderr)
    try:
        os.rmdir(HUGETLB_V1)
    except OSError:
        pass


class Timer:
    def __init__(self, name: str, path: str, root: str, bundle: str) -> None:
        self.name, self.path, self.root, self.bundle = name, path, root, bundle
        self.samples: dict[str, list[float]] = {}

    def call(self, *args: str, scenario: str | None = None) -> None:
        # stderr to a file: a created container keeps the runtime's stderr open.
        with tempfile.TemporaryFile() as err:
            t0 = time.perf_counter()
            p = subprocess.run([self.path, "--root", self.root, *args], cwd=self.bundle,
                               stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err)
            dt = time.perf_counter() - t0
            if p.returncode != 0:
                err.seek(0)
                raise RuntimeError(f"{self.name} {' '.join(args)}: {err.read().decode().strip()}")
        if scenario:
            self.samples.setdefault(scenario, []).append(dt)

    def iteration(self, i: int) -> None:
        cid = f"bench-{self.name}-{i}"
        set_cgroup(self.bundle, cid)
        self.call("run", cid, scenario="run")
        cid = f"bench2-{self.name}-{i}"
        set_cgroup(self.bundle, cid)
        self.call("create", cid, scenario="create")
        self.call("state", cid, scenario="state")
        self.call("start", cid, scenario="start")
        self.call("delete", "--force", cid, scenario="delete")


def summarize(timers: list[Timer]) -> dict:
    out: dict = {}
    base = next((t for t in timers if t.name == "runc"), None)
    for t in timers:
        for scenario, xs in t.samples.items():
            q = statistics.quantiles(xs, n=10) if len(xs) >= 2 else [xs[0]] * 9
            med = statistics.median(xs)
            entry = {"median_ms": med * 1e3, "p10_ms": q[0] * 1e3, "p90_ms": q[-1] * 1e3,
                     "runs": len(xs)}
            if base is not None and scenario in base.samples:
                entry["ratio_to_runc"] = med / statistics.median(base.samples[scenario])
            out.setdefault(scenario, {})[t.name] = entry
    return out


def print_table(result: dict) -> None:
    print(f"{'scenario':<9} {'runtime':<8} {'median ms':>10} {'p10-p90 ms':>15} {'x runc':>7}")
    for scenario, by_rt in result.items():
        for name, e in by_rt.items():
            ratio = f"{e['ratio_to_runc']:.2f}" if "ratio_to_runc" in e else "-"
            spread = f"{e['p10_ms']:.1f}-{e['p90_ms']:.1f}"
            print(f"{scenario:<9} {name:<8} {e['median_ms']:>10.1f} {spread:>15} {ratio:>7}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--runtime", action="append", default=[],
                    help="NAME=PATH (default: pyrunc, runc and crun)")
    ap.add_argument("--json", help="write the results here")
    opts = ap.parse_args()
    runtimes = {n: os.path.abspath(p) for n, p in (r.split("=", 1) for r in opts.runtime)} or {
        n: p for n, p in DEFAULT_RUNTIMES.items() if os.path.exists(p)}
    base = tempfile.mkdtemp(prefix="pyrunc-bench-")
    bound = "crun" in runtimes and bind_hugetlb_for_crun()
    timers = []
    try:
        bundle = make_bundle(base)
        timers = [Timer(n, p, os.path.join(base, f"root-{n}"), bundle)
                  for n, p in runtimes.items()]
        for t in timers:  # warm caches once, unmeasured
            t.iteration(-1)
        for i in range(opts.runs):
            for t in timers:  # interleaved, so drift hits every runtime alike
                t.iteration(i)
    finally:
        for t in timers:  # anything a failed iteration left
            ids = subprocess.run([t.path, "--root", t.root, "list", "-q"], capture_output=True,
                                 text=True).stdout.split()
            for cid in ids:
                subprocess.run([t.path, "--root", t.root, "delete", "--force", cid],
                               capture_output=True)
        shutil.rmtree(base, ignore_errors=True)
        for h in os.listdir("/sys/fs/cgroup"):
            try:
                os.rmdir(os.path.join("/sys/fs/cgroup", h, CGROUP_PARENT.lstrip("/")))
            except OSError:
                pass
        if bound:
            release_hugetlb()
    result = summarize(timers)
    print_table(result)
    if opts.json:
        with open(opts.json, "w") as f:
            json.dump({"runs": opts.runs, "runtimes": runtimes, "results": result}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
