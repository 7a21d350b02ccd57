"""The runtime-tools runner: TAP counting, and running a (fake) built suite directory."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from conformance.runtime_tools import parse_tap

REPO = Path(__file__).resolve().parents[2]


def test_parse_tap_counts_pass_fail_skip_todo_and_plan() -> None:
    text = "\n".join(
        [
            "TAP version 13",
            "ok 1 - create MUST create a new container",
            "not ok 2 - start MUST run the program",
            "ok 3 # SKIP no cgroup v2",
            "not ok 4 - flaky # TODO later",
            "  ---",
            "  reference: https://example",
            "  ...",
            "1..4",
        ]
    )
    result = parse_tap("t", text)
    assert (result.planned, result.passed, result.failed, result.skipped, result.todo) == (
        4,
        1,
        1,
        1,
        1,
    )
    assert result.failures == ["start MUST run the program"]
    result.exit_code = 1
    assert not result.ok


def test_parse_tap_notices_bail_out_and_short_runs() -> None:
    bailed = parse_tap("t", "1..3\nok 1\nBail out! runtime crashed\n")
    bailed.exit_code = 0
    assert bailed.bailed_out == "runtime crashed" and not bailed.ok
    short = parse_tap("t", "1..3\nok 1\nok 2\n")
    short.exit_code = 0
    assert not short.ok
    whole = parse_tap("t", "1..2\nok 1\nok 2\n")
    whole.exit_code = 0
    assert whole.ok


def runner(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "conformance.runtime_tools", *args],
        capture_output=True,
        text=True,
        cwd=REPO,
        env=env,
    )


def test_missing_suite_is_reported_not_run(tmp_path: Path) -> None:
    out = runner("--runtime", "/bin/true", "--tests-dir", str(tmp_path))
    assert out.returncode == 2
    assert "not present" in out.stderr and "runtimetest" in out.stderr
    assert "Traceback" not in out.stderr
    unset = runner("--runtime", "/bin/true", env={"PATH": "/usr/bin:/bin"})
    assert unset.returncode == 2 and "RUNTIME_TOOLS_DIR" in unset.stderr


def _fake_suite(root: Path) -> None:
    """A directory shaped like a built runtime-tools checkout, with shell scripts as tests."""
    (root / "validation" / "create").mkdir(parents=True)
    (root / "validation" / "kill").mkdir(parents=True)
    (root / "runtimetest").write_text("#!/bin/sh\n")
    (root / "runtimetest").chmod(0o755)
    import platform

    arch = {"x86_64": "amd64", "aarch64": "arm64"}.get(platform.machine(), platform.machine())
    (root / f"rootfs-{arch}.tar.gz").write_bytes(b"")
    create = root / "validation" / "create" / "create.t"
    create.write_text('#!/bin/sh\necho "ok 1 - runtime is $RUNTIME"\necho "ok 2"\necho "1..2"\n')
    kill = root / "validation" / "kill" / "kill.t"
    kill.write_text(
        '#!/bin/sh\necho "ok 1"\necho "not ok 2 - kill MUST signal"\necho 1..2\nexit 1\n'
    )
    for test in (create, kill):
        test.chmod(0o755)


def test_runs_every_test_with_runtime_env_and_totals(tmp_path: Path) -> None:
    _fake_suite(tmp_path)
    out = runner("--runtime", "/bin/true", "--tests-dir", str(tmp_path), "--format", "json")
    assert out.returncode == 1, out.stderr
    results = {r["name"]: r for r in json.loads(out.stdout)}
    assert results["create/create"]["passed"] == 2 and results["create/create"]["ok"]
    assert results["kill/kill"]["failed"] == 1 and not results["kill/kill"]["ok"]
    table = runner("--runtime", "/bin/true", "--tests-dir", str(tmp_path), "--filter", "create")
    assert table.returncode == 0
    assert "1/1 tests clean; assertions 2 pass, 0 FAIL" in table.stdout


def test_table_puts_runs_side_by_side(tmp_path: Path) -> None:
    a = [{"name": "create/create", "planned": 2, "passed": 2, "failed": 0, "skipped": 0},
         {"name": "kill/kill", "planned": None, "passed": 0, "failed": 0, "skipped": 0}]
    b = [{"name": "create/create", "planned": 2, "passed": 1, "failed": 1, "skipped": 1}]
    (tmp_path / "a.json").write_text(json.dumps(a))
    (tmp_path / "b.json").write_text(json.dumps(b))
    out = runner("table", f"one={tmp_path / 'a.json'}", f"two={tmp_path / 'b.json'}")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0] == "| program | one | two |"
    assert "| create | 2/0 | 1/1 (1 skip) |" in lines
    assert "| kill | crash | - |" in lines
    assert lines[-1] == ("| total | **2 ok, 0 not ok, 1 crashed** | "
                         "**1 ok, 1 not ok, 0 crashed** |")
    bad = runner("table", "nolabel")
    assert bad.returncode == 2 and "NAME=RESULTS.json" in bad.stderr
