"""The runtimes through their clients (issue 21): `ctr run --rm`, `docker run --rm`
and `podman run --rm` of /bin/true with pyrunc, runc and crun registered side by
side in the same daemons, rounds interleaved across runtimes.

    python -m tests.bench.clients [--rounds 20] [--clients ctr,docker,podman]
                                  [--runtime NAME[=PATH] ...] [--wheel] [--json PATH]

The main bench runs the same as its scenario `clients` (`--scenarios ...,clients`
or `--all`), with the pyrunc it measures everything else with.

The daemons and images are the client suite's own (tests/e2e/sessions.py:
private roots and sockets, everything removed at the end); the cgroup driver is
the suite's choice (PYRUNC_E2E_CGROUP_DRIVER, else systemd where PID 1 is
systemd).  Wall time of the whole client command, median and p10-p90 in ms,
ratio to runc.  The runtime runs under a daemon's shim, so its CPU time is not
the client's: this is what a user waits for."""

from __future__ import annotations

import argparse
import copy
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable

import pytest

from conformance.cgroupfs import hide_cgroup2
from tests.bench import host, report
from tests.bench.layout import unified_host
from tests.bench.stats import compare
from tests.e2e import images
from tests.e2e.cgroups import Layout, driver, systemd_is_init
from tests.e2e.clients import Client, Ctr
from tests.e2e.env import remove_tree
from tests.e2e.sessions import containerd_session, docker_session, podman_session

CLIENTS = ("ctr", "docker", "podman")
CGROUP_PARENT = "/pyrunc-bench-clients"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="python -m tests.bench.clients",
                                 description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=20)
    ap.add_argument("--clients", default=",".join(CLIENTS))
    ap.add_argument("--runtime", action="append", default=[],
                    help="NAME or NAME=PATH, repeatable (default: pyrunc, runc and crun)")
    ap.add_argument("--wheel", action="store_true",
                    help="pyrunc from a wheel of this checkout in a fresh venv "
                    "(tests/bench/wheel.py) instead of .venv/bin/pyrunc")
    ap.add_argument("--json", help="write the result there")
    opts = ap.parse_args(argv)
    opts.clients = [c for c in opts.clients.split(",") if c]
    if set(opts.clients) - set(CLIENTS):
        ap.error(f"clients are among {', '.join(CLIENTS)}")
    return opts


def timed(client: Client, args: list[str]) -> float:
    t0 = time.perf_counter()
    p = client(*args, timeout=120)
    dt = time.perf_counter() - t0
    if p.returncode != 0:
        raise RuntimeError(f"`{' '.join(p.args)}` exited {p.returncode}: "
                           f"{(p.stderr.strip().splitlines() or [''])[-1]}")
    return dt


def measure(clients: list[str], rounds: int, runtimes: dict[str, str], workdir: str,
            layout: Layout) -> dict[str, dict[str, list[float]]]:
    samples: dict[str, dict[str, list[float]]] = {c: {n: [] for n in runtimes}
                                                  for c in clients}
    pyrunc = runtimes.get("pyrunc") or next(iter(runtimes.values()))
    with containerd_session(workdir, pyrunc, layout) as containerd:
        # One argv maker per client and runtime: round i -> (client, args).
        makers: dict[str, dict[str, Callable[[int], tuple[Client, list[str]]]]] = {}
        if "ctr" in clients:
            makers["ctr"] = {}
            for name, path in runtimes.items():
                c = Ctr(containerd, path, layout)
                makers["ctr"][name] = lambda i, c=c, name=name: (c, c.run_argv(
                    f"{name}-{i + 1}", "--rm", images.BUSYBOX_REF, f"{name}-{i + 1}", "/bin/true"))
        docker_names = {n: ("pyrunc" if n == "pyrunc" else f"bench-{n}") for n in runtimes}
        more = {docker_names[n]: p for n, p in runtimes.items() if n != "pyrunc"}
        with docker_session(workdir, containerd, pyrunc, layout, more) as docker:
            if "docker" in clients:
                makers["docker"] = {
                    n: lambda i, n=n: (docker, ["run", "--rm", "--runtime", docker_names[n],
                                                "--network", "none", images.BUSYBOX_REF,
                                                "/bin/true"])
                    for n in runtimes}
            with podman_session(workdir, pyrunc, layout) as podman:
                if "podman" in clients:
                    makers["podman"] = {}
                    for name, path in runtimes.items():
                        p = copy.copy(podman)
                        p.runtime = path
                        makers["podman"][name] = lambda i, p=p: (p, p.run_argv(
                            "--rm", images.BUSYBOX_REF, "/bin/true"))
                for client in clients:  # warm each once, unmeasured
                    for make in makers[client].values():
                        timed(*make(-1))
                for i in range(rounds):
                    for client in clients:
                        for name, make in makers[client].items():
                            samples[client][name].append(timed(*make(i)))
    return samples


def run(clients: list[str], rounds: int, runtimes: dict[str, str], driver_name: str,
        left: list[str]) -> dict:
    """Time the clients with these runtimes; what could not be removed goes to `left`.
    Raises RuntimeError (one line) if a client fails."""
    layout = Layout(driver_name, CGROUP_PARENT)
    if layout.systemd and not systemd_is_init():
        raise RuntimeError("the systemd driver needs systemd as PID 1")
    workdir = tempfile.mkdtemp(prefix="pyrunc-bc-", dir="/tmp")  # short: socket paths
    started = time.monotonic()
    try:
        samples = measure(clients, rounds, runtimes, workdir, layout)
    except (OSError, pytest.fail.Exception) as e:
        raise RuntimeError(str(e)) from None
    finally:
        layout.cleanup()
        remove_tree(workdir)
        for d in host.cgroup_dirs(CGROUP_PARENT):  # the clients' parents, deepest first
            try:
                os.rmdir(d)
            except OSError as e:
                left.append(f"cgroup {d}: {e.strerror}")
    return {"meta": {"rounds": rounds, "cgroup_driver": layout.driver,
                     "duration_s": round(time.monotonic() - started, 1)},
            "clients": {c: compare(xs, 1e3, "ms") for c, xs in samples.items()}}


def main(argv: list[str] | None = None) -> int:
    opts = parse_args(argv)
    if os.geteuid() != 0:
        print("bench: needs root (the clients' daemons)", file=sys.stderr)
        return 2
    runtimes = host.resolve_runtimes(opts.runtime)
    if not unified_host():
        # crun refuses a hybrid host: the daemons, their shims and every runtime see
        # it v1-only, in the bench's own mount namespace (as the main bench does).
        try:
            hide_cgroup2()
        except OSError as e:
            print(f"bench: {e}", file=sys.stderr)
            return 2
    base = tempfile.mkdtemp(prefix="pyrunc-bcw-")
    left: list[str] = []
    try:
        if opts.wheel:
            from tests.bench.wheel import with_wheel

            runtimes = with_wheel(runtimes, base)
        versions = {n: {"path": p, "version": host.version(p)} for n, p in runtimes.items()}
        out = run(opts.clients, opts.rounds, runtimes, driver(), left)
    except RuntimeError as e:
        print(f"bench: {e}", file=sys.stderr)
        out = None
    finally:
        remove_tree(base)
    for d in left:
        print(f"bench: LEFT BEHIND: {d}", file=sys.stderr)
    if out is None:
        return 1
    out["meta"]["loadavg_end"] = os.getloadavg()
    out["meta"]["runtimes"] = versions  # asked before the wheel's venv went
    out["meta"]["leftovers"] = left
    report.print_clients(out)
    if opts.json:
        with open(opts.json, "w") as f:
            json.dump(out, f, indent=1)
    return 1 if left else 0


if __name__ == "__main__":
    sys.exit(main())
