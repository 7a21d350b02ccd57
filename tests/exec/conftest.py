"""A running busybox container for each exec test (see execlib.Running)."""

from __future__ import annotations

import pytest

from tests.exec.execlib import Running


@pytest.fixture
def running(rt, bundle) -> Running:
    """`sleep` as the init of a detached container; `running.exec(...)` runs exec."""
    return Running.start(rt, bundle)
