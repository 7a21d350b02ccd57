"""The registry: enough checks, unique ids, real spec sections, a sabotage for every check."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

from conformance.registry import SPEC_FILES, Level, all_checks, select
from tests.support import upstream

SPEC_DIR = Path(upstream.SPEC_DIR)   # ../shared beside the checkout (a clone has none)


def _anchors(text: str) -> set[str]:
    named = set(re.findall(r'<a name="([^"]+)"', text))
    # GitHub's heading slugs, for headings without an explicit anchor ("Valid values").
    slugs = {
        re.sub(r"[^a-z0-9 -]", "", heading.lower()).strip().replace(" ", "-")
        for heading in re.findall(r"^#+ (?:<a [^>]*/>)?\s*(.+)$", text, re.M)
    }
    return named | slugs


def test_at_least_150_checks() -> None:
    assert len(all_checks()) >= 150


def test_ids_are_unique_and_well_formed() -> None:
    ids = [c.id for c in all_checks()]
    assert [i for i, n in Counter(ids).items() if n > 1] == []
    bad = [i for i in ids if not re.fullmatch(r"[a-z][a-z0-9-]*(\.[A-Za-z0-9_.-]+)+", i)]
    assert bad == []


def test_every_check_has_level_description_and_sabotage() -> None:
    for c in all_checks():
        assert isinstance(c.level, Level)
        assert c.description and not c.description.endswith(".")
        assert c.sabotage.description, f"{c.id}: sabotage without a description"
        effects = (
            c.sabotage.config,
            c.sabotage.state,
            c.sabotage.succeed,
            c.sabotage.skip,
            c.sabotage.extra,
            c.sabotage.leak_fds,
            c.sabotage.recreate_on_start,
        )
        assert any(effects), f"{c.id}: the sabotage changes nothing"


@pytest.mark.skipif(not SPEC_DIR.is_dir(),
                    reason="the runtime-spec text is not present beside the checkout")
def test_sections_name_real_anchors() -> None:
    anchors = {name: _anchors((SPEC_DIR / name).read_text()) for name in SPEC_FILES}
    missing = [f"{c.id}: {c.section}" for c in all_checks() if c.anchor not in anchors[c.spec_file]]
    assert missing == []


def test_every_area_is_covered() -> None:
    areas = {c.area for c in all_checks()}
    for area in (
        "lifecycle",
        "state",
        "process",
        "user",
        "capabilities",
        "rlimits",
        "mounts",
        "namespaces",
        "devices",
        "cgroups",
        "seccomp",
        "hooks",
        "paths",
        "sysctl",
    ):
        assert area in areas


def test_select_filters_by_substring() -> None:
    checks = all_checks()
    picked = select(checks, ["seccomp."])
    assert picked and all("seccomp" in f"{c.id} {c.section}" for c in picked)
    assert select(checks, None) == checks
    assert select(checks, ["no-such-check-anywhere"]) == []


def test_all_levels_are_used() -> None:
    assert {c.level for c in all_checks()} == set(Level)
