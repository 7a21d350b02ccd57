"""Unit tests of the suite's parts that need no container: parsing, sabotage plumbing, reports."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conformance import procfs
from conformance.checks.state import state_problems
from conformance.registry import all_checks
from conformance.report import render_json, render_table
from conformance.runner import FAIL, PASS, SKIP, Outcome, RuntimeReport, explain_create_failure
from conformance.runtime import Result, Runtime
from conformance.sabotage import (
    Extra,
    Sabotage,
    parse_invocation,
    run_sabotaged,
)


def test_parse_invocation_finds_command_bundle_and_id(tmp_path: Path) -> None:
    inv = parse_invocation(
        ["--root", "/r", "--log", "/l", "create", "--bundle", "b", "--pid-file", "p", "c1"],
        tmp_path,
    )
    assert (inv.command, inv.bundle, inv.container_id) == ("create", tmp_path / "b", "c1")
    assert inv.global_args == ["--root", "/r", "--log", "/l"]
    kill = parse_invocation(["--root", "/r", "kill", "c2", "KILL"], tmp_path)
    assert (kill.command, kill.container_id) == ("kill", "c2")
    bare = parse_invocation(["--root", "/r", "state"], tmp_path)
    assert (bare.command, bare.container_id) == ("state", None)
    default_bundle = parse_invocation(["create", "c3"], tmp_path)
    assert default_bundle.bundle == tmp_path


FAKE_RUNTIME = """#!/bin/sh
echo "$*" >> "{log}"
case "$3" in
  state) echo '{{"ociVersion": "1.0.2", "id": "c", "status": "running", "bundle": "/b"}}';;
  start) exit 3;;
esac
exit 0
"""


@pytest.fixture
def fake_runtime(tmp_path: Path) -> tuple[Path, Path]:
    log = tmp_path / "calls.log"
    path = tmp_path / "fake-runtime"
    path.write_text(FAKE_RUNTIME.format(log=log))
    path.chmod(0o755)
    return path, log


def _calls(log: Path) -> list[str]:
    return log.read_text().splitlines() if log.exists() else []


def test_sabotage_corrupts_config_before_create(tmp_path: Path, fake_runtime) -> None:
    real, log = fake_runtime
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    (bundle / "config.json").write_text(json.dumps({"hostname": "good"}))
    sabotage = Sabotage("x", config=lambda c, b: c.__setitem__("hostname", f"bad:{b.name}"))
    code = run_sabotaged(
        sabotage, str(real), ["--root", "/r", "create", "--bundle", str(bundle), "c1"]
    )
    assert code == 0
    assert json.loads((bundle / "config.json").read_text())["hostname"] == "bad:bundle"
    assert _calls(log) == [f"--root /r create --bundle {bundle} c1"]


def test_sabotage_hides_failures_and_skips(fake_runtime) -> None:
    real, log = fake_runtime
    assert run_sabotaged(Sabotage("x"), str(real), ["--root", "/r", "start", "c"]) == 3
    hidden = Sabotage("x", succeed=frozenset({"start"}))
    assert run_sabotaged(hidden, str(real), ["--root", "/r", "start", "c"]) == 0
    skipped = Sabotage("x", skip=frozenset({"kill"}))
    assert run_sabotaged(skipped, str(real), ["--root", "/r", "kill", "c", "KILL"]) == 0
    assert "--root /r kill c KILL" not in _calls(log)


def test_sabotage_runs_extra_commands_with_the_id(fake_runtime) -> None:
    real, log = fake_runtime
    sabotage = Sabotage(
        "x",
        extra=(
            Extra("before", "delete", ("kill", "{id}", "KILL")),
            Extra("after", "create", ("start",)),
        ),
    )
    run_sabotaged(sabotage, str(real), ["--root", "/r", "delete", "c9"])
    run_sabotaged(sabotage, str(real), ["--root", "/r", "create", "--bundle", "/nonexistent", "c8"])
    assert _calls(log) == [
        "--root /r kill c9 KILL",
        "--root /r delete c9",
        "--root /r create --bundle /nonexistent c8",
        "--root /r start c8",
    ]


def test_sabotage_lies_in_state(fake_runtime) -> None:
    real, _ = fake_runtime
    script = (
        "import sys; from conformance.sabotage import Sabotage, run_sabotaged; "
        "s = Sabotage('x', state=lambda st: st.__setitem__('status', 'created')); "
        f"sys.exit(run_sabotaged(s, {str(real)!r}, ['--root', '/r', 'state', 'c']))"
    )
    out = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["status"] == "created"


def test_sabotage_main_rejects_unknown_check() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "conformance.sabotage", "--check", "no.such", "--runtime", "x"],
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert out.returncode == 2
    assert "no check with id 'no.such'" in out.stderr
    assert "Traceback" not in out.stderr


def test_state_problems() -> None:
    good = {"ociVersion": "1.0.2", "id": "a", "status": "running", "pid": 3, "bundle": "/b"}
    assert state_problems(good) == []
    assert any("pid" in p for p in state_problems(dict(good, pid="3")))
    assert any(
        "bundle" in p for p in state_problems({k: v for k, v in good.items() if k != "bundle"})
    )
    assert any("status" in p for p in state_problems(dict(good, status="paused")))
    assert any("annotations" in p for p in state_problems(dict(good, annotations={"a": 1})))


def test_procfs_reads_our_own_process() -> None:
    caps = procfs.capabilities(os.getpid())
    assert set(caps) == {"bounding", "effective", "permitted", "inheritable", "ambient"}
    limits = procfs.limits(os.getpid())
    assert "RLIMIT_NOFILE" in limits and limits["RLIMIT_NOFILE"][0] <= limits["RLIMIT_NOFILE"][1]
    mounts = procfs.mountinfo("self")
    assert procfs.mount_at(mounts, "/") is not None
    assert procfs.cap_names(0b100001) == {"CAP_CHOWN", "CAP_KILL"}
    assert procfs.cmdline("self")[0]


def test_result_summary_extracts_logfmt_message() -> None:
    result = Result(
        argv=("/usr/sbin/runc", "--root", "/r", "create", "--bundle", "/b", "c"),
        returncode=1,
        stdout="",
        stderr='time="x" level=error msg="runc create failed: error mounting \\"tmpfs\\""\n',
        seconds=0.1,
    )
    assert result.summary() == 'create exited 1: runc create failed: error mounting "tmpfs"'
    assert not result.ok


def test_runtime_call_captures_output_and_times_out(tmp_path: Path) -> None:
    script = tmp_path / "rt"
    script.write_text('#!/bin/sh\necho out; echo err >&2; [ "$3" = slow ] && sleep 5; exit 4\n')
    script.chmod(0o755)
    rt = Runtime(str(script), tmp_path / "root", timeout=1)
    result = rt.call("fast")
    assert (result.returncode, result.stdout, result.stderr) == (4, "out\n", "err\n")
    slow = rt.call("slow")
    assert slow.timed_out and not slow.ok and "timed out" in slow.summary()


def test_explain_create_failure_names_the_fix_on_hybrid_hosts() -> None:
    text = explain_create_failure(
        "create exited 1: cgroups in hybrid mode not supported, drop all controllers from cgroupv2"
    )
    assert text.startswith("the runtime cannot create a minimal container")
    from conformance import cgroupfs

    v2_controllers = [h for h in cgroupfs.hierarchies() if h.version == 2 and h.controllers]
    if cgroupfs.layout() == "hybrid" and v2_controllers:
        assert "mount -t cgroup -o" in text and "bound to cgroup v1" in text


def test_reports_render_side_by_side_and_json() -> None:
    checks = all_checks()[:3]
    one = RuntimeReport(
        "/rt/one",
        "one 1.0",
        {
            checks[0].id: Outcome(checks[0].id, PASS, "", 0.1),
            checks[1].id: Outcome(checks[1].id, FAIL, "broken " * 40, 0.2),
            checks[2].id: Outcome(checks[2].id, SKIP, "not here", 0.0),
        },
    )
    two = RuntimeReport("/rt/two", "two 2.0", {}, preflight_error="cannot run")
    table = render_table(checks, [one, two])
    assert "one" in table.splitlines()[0] and "two" in table.splitlines()[0]
    assert "FAIL: broken" in table and "skip: not here" in table
    assert "NOT RUN: cannot run" in table
    doc = json.loads(render_json(checks, [one, two]))
    assert doc["checks"][1]["results"]["/rt/one"]["status"] == FAIL
    assert doc["runtimes"][1]["preflight_error"] == "cannot run"
    assert doc["runtimes"][0]["summary"][checks[1].level.value][FAIL] >= 1
