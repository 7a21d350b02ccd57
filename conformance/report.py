"""Rendering results: a side-by-side table or JSON, and the summary counts."""

from __future__ import annotations

import json
import os
import shutil
from collections import Counter

from conformance.registry import Check, Level
from conformance.runner import FAIL, PASS, SKIP, Outcome, RuntimeReport


def summary(checks: list[Check], report: RuntimeReport) -> dict[str, dict[str, int]]:
    """Counts of pass/FAIL/skip per level."""
    counts: dict[str, Counter[str]] = {level.value: Counter() for level in Level}
    for check in checks:
        outcome = report.outcomes.get(check.id)
        if outcome is not None:
            counts[check.level.value][outcome.status] += 1
    return {level: {PASS: c[PASS], FAIL: c[FAIL], SKIP: c[SKIP]} for level, c in counts.items()}


def must_failures(checks: list[Check], report: RuntimeReport) -> list[Check]:
    return [
        c
        for c in checks
        if c.level is Level.MUST
        and c.id in report.outcomes
        and report.outcomes[c.id].status == FAIL
    ]


def _cell(outcome: Outcome | None, width: int) -> str:
    if outcome is None:
        return "-"
    text = outcome.status if not outcome.reason else f"{outcome.status}: {outcome.reason}"
    text = " ".join(text.split())
    if len(text) <= width:
        return text
    # Runtimes put the cause at the end of their error chains: keep the head and the tail.
    head = max(0, width // 3)
    tail = max(0, width - head - 1)
    return text[:head] + "…" + (text[-tail:] if tail else "")


def render_table(checks: list[Check], reports: list[RuntimeReport]) -> str:
    width = shutil.get_terminal_size((200, 40)).columns
    id_w = max([len("requirement")] + [len(c.id) for c in checks])
    sec_w = max([len("section")] + [len(c.section) for c in checks])
    fixed = id_w + sec_w + 6 + 3 * (2 + len(reports))
    cell_w = max(12, (width - fixed) // max(1, len(reports)))
    header = [
        "requirement".ljust(id_w),
        "section".ljust(sec_w),
        "level ",
        *(label[:cell_w].ljust(cell_w) for label in _labels(reports)),
    ]
    lines = [" | ".join(header).rstrip(), "-" * min(width, len(" | ".join(header)))]
    for check in checks:
        row = [
            check.id.ljust(id_w),
            check.section.ljust(sec_w),
            check.level.value.ljust(6),
            *(_cell(r.outcomes.get(check.id), cell_w).ljust(cell_w) for r in reports),
        ]
        lines.append(" | ".join(row).rstrip())
    lines.append("")
    for report in reports:
        lines.append(_summary_line(checks, report))
    return "\n".join(lines)


def _labels(reports: list[RuntimeReport]) -> list[str]:
    """Column titles: the binary's name, numbered when two runtimes share one."""
    names = [os.path.basename(r.path) or r.path for r in reports]
    if len(set(names)) == len(names):
        return names
    return [f"{i}:{name}" for i, name in enumerate(names, 1)]


def _summary_line(checks: list[Check], report: RuntimeReport) -> str:
    if report.preflight_error:
        return f"{report.path}: NOT RUN: {report.preflight_error}"
    parts = []
    for level, counts in summary(checks, report).items():
        total = sum(counts.values())
        if total:
            parts.append(
                f"{level} {counts[PASS]}/{total} pass"
                + (f", {counts[FAIL]} FAIL" if counts[FAIL] else "")
                + (f", {counts[SKIP]} skip" if counts[SKIP] else "")
            )
    line = f"{report.path} ({report.version}): " + "; ".join(parts)
    if report.cleanup_problems:
        line += f" [left behind: {', '.join(report.cleanup_problems)}]"
    return line


def render_json(checks: list[Check], reports: list[RuntimeReport]) -> str:
    doc = {
        "runtimes": [
            {
                "path": r.path,
                "version": r.version,
                "preflight_error": r.preflight_error,
                "summary": summary(checks, r),
                "cleanup_problems": r.cleanup_problems or [],
            }
            for r in reports
        ],
        "checks": [
            {
                "id": c.id,
                "section": c.section,
                "level": c.level.value,
                "description": c.description,
                "results": {r.path: _outcome_json(r.outcomes.get(c.id)) for r in reports},
            }
            for c in checks
        ],
    }
    return json.dumps(doc, indent=2)


def _outcome_json(outcome: Outcome | None) -> dict[str, object] | None:
    if outcome is None:
        return None
    return {
        "status": outcome.status,
        "reason": outcome.reason,
        "seconds": round(outcome.seconds, 3),
    }


def render_list(checks: list[Check]) -> str:
    id_w = max(len(c.id) for c in checks) if checks else 0
    sec_w = max(len(c.section) for c in checks) if checks else 0
    lines = [
        f"{c.id.ljust(id_w)}  {c.section.ljust(sec_w)}  {c.level.value.ljust(6)}  {c.description}"
        for c in checks
    ]
    lines.append(f"{len(checks)} checks")
    return "\n".join(lines)


__all__ = [
    "FAIL",
    "PASS",
    "SKIP",
    "must_failures",
    "render_json",
    "render_list",
    "render_table",
    "summary",
]
