"""linux.devices major/minor numbers the schema allows (int64) but mknod cannot take:
one clear line and nothing left behind (was: an internal OverflowError, found by the
fuzzer)."""

from __future__ import annotations

import pytest

from tests.robustness.leftovers import assert_no_bug_output, error_lines, found
from tests.support.runtime import is_pyrunc

pytestmark = pytest.mark.skipif(not is_pyrunc(), reason="pyrunc's own wording is checked")


@pytest.mark.parametrize("field,value", [("minor", 1 << 31), ("major", 1 << 40), ("minor", -1)])
def test_device_number_out_of_range(rt, bundle, cgroup_parent, field, value):
    device = {"type": "c", "path": "/dev/odd", "major": 1, "minor": 3}
    device[field] = value
    bundle.linux["devices"] = [device]
    bundle.save()
    p = rt("create", "-b", bundle.path, bundle.id)
    assert p.returncode != 0
    assert_no_bug_output(p)
    lines = error_lines(p.stderr)
    assert len(lines) == 1 and f"{field} {value} is out of range" in lines[0], p.stderr
    assert found(rt.root, bundle.id, cgroup_parent, bundle.path) == []
