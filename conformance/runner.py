"""Running checks against one runtime, in parallel, turning each into an Outcome."""

from __future__ import annotations

import os
import time
import traceback
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from conformance import cgroupfs
from conformance.context import Session, become_subreaper
from conformance.registry import Check, CheckFailed, CheckSkipped
from conformance.runtime import Runtime

PASS, FAIL, SKIP = "pass", "FAIL", "skip"


@dataclass(frozen=True)
class Outcome:
    check_id: str
    status: str  # PASS, FAIL or SKIP
    reason: str
    seconds: float


@dataclass
class RuntimeReport:
    path: str
    version: str
    outcomes: dict[str, Outcome]
    preflight_error: str | None = None
    cleanup_problems: list[str] | None = None


def run_check(session: Session, check: Check, runtime: Runtime | None = None) -> Outcome:
    """Run one check; ``runtime`` overrides the session's (same state root, another binary)."""
    begin = time.monotonic()
    ctx = session.context(check.id, runtime)
    try:
        note = check.func(ctx)
        status, reason = PASS, note or ""
    except CheckFailed as exc:
        status, reason = FAIL, str(exc)
    except CheckSkipped as exc:
        status, reason = SKIP, str(exc)
    except Exception as exc:  # noqa: BLE001 - a crashing check is a failed check, with a clue
        where = traceback.extract_tb(exc.__traceback__)[-1]
        status = FAIL
        reason = f"check error {type(exc).__name__}: {exc} ({where.filename}:{where.lineno})"
    finally:
        ctx.close()
    return Outcome(check.id, status, reason, time.monotonic() - begin)


def preflight(session: Session) -> str | None:
    """Run one trivial container; say clearly why not, when the runtime cannot do even that."""
    ctx = session.context("preflight")
    try:
        container = ctx.container(args=["true"])
        result = container.create(expect_ok=False)
        if result.ok:
            return None
        return explain_create_failure(result.summary())
    finally:
        ctx.close()


def explain_create_failure(summary: str) -> str:
    message = f"the runtime cannot create a minimal container: {summary}"
    hybrid_v2 = [h for h in cgroupfs.hierarchies() if h.version == 2 and h.controllers]
    if cgroupfs.layout() == "hybrid" and hybrid_v2:
        held = sorted(hybrid_v2[0].controllers)
        mount = hybrid_v2[0].mountpoint
        if "hybrid" in summary or "cgroupv2" in summary or "cgroup v2" in summary:
            mounts = " && ".join(f"mount -t cgroup -o {c} {c} /sys/fs/cgroup/{c}" for c in held)
            dirs = " ".join(f"/sys/fs/cgroup/{c}" for c in held)
            message += (
                f" -- this host is hybrid and the cgroup v2 hierarchy at {mount} holds "
                f"{', '.join(held)}; this runtime needs those controllers bound to cgroup v1. "
                f"Best done in a private mount namespace, so no other process starts using the "
                f"v1 hierarchy: `mkdir -p {dirs} && unshare -m sh -c '{mounts} && python -m "
                f"conformance --runtime ...'; rmdir {dirs}`"
            )
    return message


def run_all(
    runtime_path: str,
    checks: Iterable[Check],
    jobs: int = 0,
    timeout: float = 30.0,
    keep: bool = False,
    progress: Callable[[Outcome], None] | None = None,
) -> RuntimeReport:
    """Run ``checks`` against the runtime at ``runtime_path``."""
    become_subreaper()
    checks = list(checks)
    session = Session(runtime_path, timeout=timeout, keep=keep)
    report = RuntimeReport(runtime_path, session.runtime.version(), {})
    try:
        report.preflight_error = preflight(session)
        if report.preflight_error is not None:
            for check in checks:
                report.outcomes[check.id] = Outcome(check.id, SKIP, "preflight failed", 0.0)
            return report
        workers = jobs or max(2, min(8, (os.cpu_count() or 1) * 2))
        with ThreadPoolExecutor(max_workers=workers) as pool:
            for outcome in pool.map(lambda c: run_check(session, c), checks):
                report.outcomes[outcome.check_id] = outcome
                if progress is not None:
                    progress(outcome)
    finally:
        report.cleanup_problems = session.close()
    return report
