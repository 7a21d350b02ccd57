"""Fixtures: the whole suite run once against runc, and once per check against a sabotaged runc.

Both runs are session-scoped and parallel; the tests then look up one outcome each.
"""

from __future__ import annotations

import os
import shutil
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from conformance.context import Session, become_subreaper
from conformance.registry import Check, all_checks
from conformance.runner import Outcome, RuntimeReport, run_all, run_check
from conformance.runtime import Runtime
from tests.conformance.runc_known import RUNC

REPO = Path(__file__).resolve().parents[2]
# The runtime the sabotages break. runc by default; a check runc fails anyway proves more with a
# base that passes it, e.g. CONFORMANCE_SABOTAGE_BASE=/work/main/.venv/bin/pyrunc.
SABOTAGE_BASE = os.environ.get("CONFORMANCE_SABOTAGE_BASE", RUNC)


def _unavailable() -> str | None:
    if os.geteuid() != 0:
        return "the conformance suite needs root to create containers"
    if not os.access(RUNC, os.X_OK):
        return f"{RUNC} is not installed"
    if not shutil.which("busybox") and not os.path.exists("/bin/busybox"):
        return "busybox-static is not installed"
    return None


@pytest.fixture(scope="session")
def checks() -> list[Check]:
    return all_checks()


@pytest.fixture(scope="session")
def runc_report(checks: list[Check]) -> RuntimeReport:
    reason = _unavailable()
    if reason:
        pytest.skip(reason)
    return run_all(RUNC, checks, jobs=4)


def write_sabotage_wrapper(directory: Path, check_id: str, real: str) -> Path:
    """A runtime binary that is ``real`` with the sabotage of ``check_id`` applied."""
    path = directory / f"{check_id}.sh"
    path.write_text(
        "#!/bin/sh\n"
        f'PYTHONPATH="{REPO}" exec "{sys.executable}" -m conformance.sabotage '
        f'--check "{check_id}" --runtime "{real}" -- "$@"\n'
    )
    path.chmod(0o755)
    return path


@pytest.fixture(scope="session")
def sabotage_outcomes(checks: list[Check], tmp_path_factory) -> dict[str, Outcome]:
    reason = _unavailable()
    if reason:
        pytest.skip(reason)
    become_subreaper()
    wrappers = tmp_path_factory.mktemp("sabotage")
    session = Session(SABOTAGE_BASE)

    def one(check: Check) -> Outcome:
        wrapper = write_sabotage_wrapper(wrappers, check.id, SABOTAGE_BASE)
        return run_check(session, check, Runtime(str(wrapper), session.state_root))

    try:
        with ThreadPoolExecutor(max_workers=4) as pool:
            return {o.check_id: o for o in pool.map(one, checks)}
    finally:
        problems = session.close()
        assert not problems, f"sabotage run left behind: {problems}"
