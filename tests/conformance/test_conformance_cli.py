"""python -m conformance: listing, filtering, formats, exit codes, several runtimes, bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conformance.conftest import write_sabotage_wrapper
from tests.conformance.runc_known import RUNC

REPO = Path(__file__).resolve().parents[2]
needs_runc = pytest.mark.skipif(
    os.geteuid() != 0 or not os.access(RUNC, os.X_OK), reason="needs root and runc"
)


def conformance(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "conformance", *args],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=300,
    )


def test_list_shows_every_check_with_section_and_level() -> None:
    out = conformance("--list")
    assert out.returncode == 0
    lines = out.stdout.strip().splitlines()
    count = int(lines[-1].split()[0])
    assert count >= 150 and len(lines) == count + 1
    assert any(
        "lifecycle.start.twice" in line and "runtime.md#runtimeStart" in line and "MUST" in line
        for line in lines
    )


def test_list_with_filter() -> None:
    out = conformance("--list", "--filter", "seccomp.args")
    lines = out.stdout.strip().splitlines()[:-1]
    assert lines and all(line.startswith("seccomp.args.") for line in lines)


def test_usage_errors_are_one_line() -> None:
    missing = conformance()
    assert missing.returncode == 2 and "--runtime" in missing.stderr
    assert "Traceback" not in missing.stderr
    bogus = conformance("--runtime", "/nonexistent/runtime")
    assert bogus.returncode == 2
    assert bogus.stderr.strip().count("\n") == 0 and "not an executable" in bogus.stderr
    nothing = conformance("--runtime", RUNC, "--filter", "no-such-check-anywhere")
    assert nothing.returncode in (2,) and "no check matches" in nothing.stderr


@needs_runc
def test_passing_checks_exit_zero_with_a_table() -> None:
    out = conformance("--runtime", RUNC, "--filter", "state.id", "--filter", "process.cwd")
    assert out.returncode == 0, out.stdout + out.stderr
    assert "requirement" in out.stdout and "| pass" in out.stdout
    assert "FAIL" not in out.stdout


@needs_runc
def test_a_failing_must_check_exits_one_and_json_says_why() -> None:
    out = conformance("--runtime", RUNC, "--filter", "process.domainname", "--format", "json")
    assert out.returncode == 1
    doc = json.loads(out.stdout)
    [item] = doc["checks"]
    assert item["level"] == "MUST" and item["section"] == "config.md#configDomainname"
    assert item["results"][RUNC]["status"] == "FAIL" and item["results"][RUNC]["reason"]


@needs_runc
def test_only_the_first_runtime_decides_the_exit_code(tmp_path: Path) -> None:
    broken = str(write_sabotage_wrapper(tmp_path, "state.id", RUNC))
    good_first = conformance("--runtime", RUNC, "--runtime", broken, "--filter", "state.id")
    assert good_first.returncode == 0, good_first.stdout + good_first.stderr
    header = good_first.stdout.splitlines()[0]
    assert "runc" in header and "state.id.sh" in header
    assert f"{broken} (" in good_first.stdout  # the summary names the full path
    row = next(line for line in good_first.stdout.splitlines() if line.startswith("state.id "))
    assert "pass" in row and "FAIL" in row
    broken_first = conformance("--runtime", broken, "--runtime", RUNC, "--filter", "state.id")
    assert broken_first.returncode == 1


@needs_runc
def test_a_runtime_that_cannot_run_anything_is_reported_not_run(tmp_path: Path) -> None:
    fake = tmp_path / "hopeless"
    fake.write_text("#!/bin/sh\necho 'cannot do anything' >&2\nexit 1\n")
    fake.chmod(0o755)
    out = conformance("--runtime", str(fake), "--filter", "state.id")
    assert out.returncode == 1
    assert "NOT RUN: the runtime cannot create a minimal container" in out.stdout
    assert "cannot do anything" in out.stdout
