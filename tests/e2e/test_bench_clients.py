"""The bench's `clients` scenario (tests/bench/clients.py, issue 21): `ctr`, `docker`
and `podman run --rm` through the client suite's own daemons, with pyrunc from a
fresh wheel and runc registered side by side.  No time is asserted: that every
client ran every runtime, and that nothing is left behind."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.bench.clients import CGROUP_PARENT, CLIENTS
from tests.bench.host import REPO, cgroup_dirs

pytestmark = pytest.mark.e2e


def test_clients_scenario_with_the_wheel(tmp_path):
    out = tmp_path / "results.json"
    p = subprocess.run(
        [sys.executable, "-m", "tests.bench", "--quick", "--wheel", "--scenarios", "clients",
         "--client-rounds", "1", "--runtime", "pyrunc", "--runtime", "runc", "--no-plot",
         "--cgroup-parent", f"/pyrunc-bench-e2e-{os.getpid()}", "--json", str(out)],
        cwd=REPO, capture_output=True, text=True, timeout=1200)
    assert p.returncode == 0, p.stdout[-2000:] + p.stderr[-2000:]
    assert "Traceback" not in p.stderr
    result = json.loads(out.read_text())
    assert result["meta"]["leftovers"] == []
    assert cgroup_dirs(CGROUP_PARENT) == []
    # the clients ran the pyrunc of the wheel the run installed, not the checkout's
    wheel_pyrunc = result["meta"]["runtimes"]["pyrunc"]["path"]
    assert "/venv/bin/pyrunc" in wheel_pyrunc and not os.path.exists(wheel_pyrunc)
    clients = result["clients"]
    assert clients["meta"]["rounds"] == 1
    assert list(clients["clients"]) == list(CLIENTS)
    for client, by_rt in clients["clients"].items():
        assert sorted(by_rt) == ["pyrunc", "runc"], client
        for name, e in by_rt.items():
            assert e["runs"] == 1 and e["median_ms"] > 0, (client, name)
        assert by_rt["runc"]["ratio_to_runc"] == 1.0
        assert by_rt["pyrunc"]["ratio_to_runc"] > 0
