"""Every check passes against runc (bar the recorded exceptions) and fails under its sabotage."""

from __future__ import annotations

import pytest

from conformance.registry import all_checks
from conformance.runner import FAIL, PASS, SKIP, Outcome, RuntimeReport
from tests.conformance.runc_known import KNOWN_FAILURES, KNOWN_SKIPS

CHECK_IDS = [c.id for c in all_checks()]


@pytest.mark.parametrize("check_id", CHECK_IDS)
def test_check_against_runc(check_id: str, runc_report: RuntimeReport) -> None:
    outcome = runc_report.outcomes[check_id]
    if check_id in KNOWN_FAILURES:
        assert outcome.status == FAIL, (
            f"runc now gives {outcome.status} ({outcome.reason}); drop it from KNOWN_FAILURES"
        )
    elif check_id in KNOWN_SKIPS:
        assert outcome.status == SKIP, f"runc now gives {outcome.status}: {outcome.reason}"
    else:
        assert outcome.status == PASS, f"{outcome.status}: {outcome.reason}"


@pytest.mark.parametrize("check_id", CHECK_IDS)
def test_check_fails_under_sabotage(check_id: str, sabotage_outcomes: dict[str, Outcome]) -> None:
    outcome = sabotage_outcomes[check_id]
    assert outcome.status == FAIL, (
        f"the check still gives {outcome.status} ({outcome.reason}) against a runtime broken by "
        "its sabotage: it cannot fail"
    )


def test_runc_run_leaves_nothing_behind(runc_report: RuntimeReport) -> None:
    assert not runc_report.cleanup_problems
