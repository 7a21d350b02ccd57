"""Fixtures for the cgroup tests: real cgroups under a parent of our own, real processes.

Every test using ``cg_parent`` gets "/pyrunc-test-cg-<random>"; at the end the
fixture checks that nothing is left below it in any hierarchy (a leftover is a
test failure, after which it is cleaned up anyway).
"""

from __future__ import annotations

import os
import secrets

import pytest
from cg_testlib import Procs, force_remove, leftovers

from runtime.cgroups import mounts


@pytest.fixture
def cg_parent():
    mounts.refresh()
    rel = "/pyrunc-test-cg-" + secrets.token_hex(4)
    yield rel
    mounts.refresh()
    left = leftovers(rel)
    # A frozen cgroup cannot be emptied: thaw before cleaning.
    for d in left:
        for root, _, _ in os.walk(d):
            for name, thawed in (("freezer.state", "THAWED"), ("cgroup.freeze", "0")):
                if os.path.exists(os.path.join(root, name)):
                    with open(os.path.join(root, name), "w") as f:
                        f.write(thawed)
    for d in left:
        force_remove(d)
    assert not left, f"cgroups left behind: {left}"


@pytest.fixture
def procs():
    ps = Procs()
    yield ps
    ps.stop_all()
