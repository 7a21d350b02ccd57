"""Validation of linux.resources and runc's update merge (pure)."""

from __future__ import annotations

import pytest

from runtime.cgroups import CgroupError
from runtime.cgroups.resources import (
    KERNEL_MEMORY_WARNING,
    merge_update,
    parse_cpu_list,
    validate,
)


def test_valid_resources_come_back_cleaned():
    res = validate({
        "memory": {"limit": 1 << 26, "swap": -1, "swappiness": 10},
        "cpu": {"shares": 512, "quota": -1, "cpus": "0-1", "idle": 0},
        "pids": {"limit": -1},
        "devices": [{"allow": False, "access": "rwm"},
                    {"allow": True, "type": "c", "major": 1, "minor": -1, "access": "mr"}],
        "unified": {"hugetlb.2MB.max": "0"},
    })
    assert res["memory"] == {"limit": 1 << 26, "swap": -1, "swappiness": 10}
    assert res["devices"][0] == {"allow": False, "type": "a", "access": "rwm"}
    # -1 for a device number means "any", same as leaving it out.
    assert res["devices"][1] == {"allow": True, "type": "c", "access": "mr", "major": 1}


@pytest.mark.parametrize("resources, message", [
    ({"memory": {"limit": -5}}, "memory.limit"),
    ({"memory": {"limit": "1G"}}, "expected an integer"),
    ({"memory": {"swappiness": 200}}, "invalid memory swappiness value: 200"),
    ({"cpu": {"shares": -1}}, "cpu.shares"),
    ({"cpu": {"period": True}}, "expected an integer"),
    ({"cpu": {"cpus": "0-"}}, "cpu.cpus"),
    ({"cpu": {"mems": "a"}}, "cpu.mems"),
    ({"pids": {"limit": 1.5}}, "pids.limit"),
    ({"blockIO": {"weight": 70000}}, "blockIO.weight"),
    ({"blockIO": {"throttleReadBpsDevice": [{"major": 8, "minor": 0, "rate": -1}]}},
     r"throttleReadBpsDevice\[0\].rate"),
    ({"devices": [{"allow": True, "type": "x", "access": "rwm"}]},
     'invalid cgroup device type "x"'),
    ({"devices": [{"allow": True, "type": "c"}]}, "device access at 0 field cannot be empty"),
    ({"devices": [{"allow": True, "access": "rwx"}]}, "invalid device access"),
    ({"devices": [{"type": "c", "access": "r"}]}, "allow"),
    ({"hugepageLimits": [{"limit": 1}]}, "pageSize"),
    ({"network": {"classID": 1 << 33}}, "network.classID"),
    ({"unified": {"../memory.max": "1"}}, "no slashes"),
    ({"unified": {"memorymax": "1"}}, "CONTROLLER.PARAMETER"),
    ({"unified": {"memory.max": 5}}, "expected a string"),
    ({"memory": []}, "expected an object"),
])
def test_bad_values_are_refused_with_one_clear_line(resources, message):
    with pytest.raises(CgroupError, match=message) as err:
        validate(resources)
    assert "\n" not in str(err.value)


def test_kernel_memory_is_accepted_with_runc_warning():
    warnings: list[str] = []
    res = validate({"memory": {"kernel": 1 << 20, "kernelTCP": 1 << 20}}, warnings)
    assert res["memory"]["kernel"] == 1 << 20
    assert warnings == [KERNEL_MEMORY_WARNING]


def test_cpu_list_parser():
    assert parse_cpu_list("0-2,5") == {0, 1, 2, 5}
    assert parse_cpu_list("") == set()
    for bad in ("2-1", "0,,1", "x", "-1"):
        with pytest.raises(ValueError):
            parse_cpu_list(bad)


STORED = {
    "memory": {"limit": 100, "swap": 200, "swappiness": 10},
    "cpu": {"shares": 512, "quota": 50000, "period": 100000, "cpus": "0"},
    "pids": {"limit": 10},
    "hugepageLimits": [{"pageSize": "2MB", "limit": 0}],
    "devices": [{"allow": False, "type": "a", "access": "rwm"}],
}


def test_update_zero_or_absent_leaves_values_alone():
    write, merged = merge_update(STORED, {"pids": {"limit": 20}})
    # Written: only the new value (zeros are skipped by the controllers) ...
    assert write["pids"] == {"limit": 20}
    assert write["memory"]["limit"] == 0 and write["cpu"]["shares"] == 0
    assert write["cpu"]["cpus"] == ""
    # ... remembered: the old values plus the new one.
    assert merged["memory"]["limit"] == 100 and merged["cpu"]["shares"] == 512
    assert merged["pids"] == {"limit": 20}
    # Settings update cannot change are kept (and re-applied, as runc does).
    assert write["memory"]["swappiness"] == 10
    assert write["hugepageLimits"] == STORED["hugepageLimits"]


def test_update_quota_without_period_keeps_the_old_period():
    write, merged = merge_update(STORED, {"cpu": {"quota": 20000}})
    assert write["cpu"]["quota"] == 20000 and write["cpu"]["period"] == 100000
    write, merged = merge_update(STORED, {"cpu": {"period": 50000}})
    assert write["cpu"]["period"] == 50000 and write["cpu"]["quota"] == 50000
    assert merged["cpu"]["period"] == 50000


def test_update_minus_one_means_unlimited_not_unchanged():
    write, merged = merge_update(STORED, {"memory": {"limit": -1}, "pids": {"limit": -1}})
    assert write["memory"]["limit"] == -1 and merged["memory"]["limit"] == -1
    assert merged["pids"]["limit"] == -1


def test_update_unified_replaces_what_is_written():
    stored = dict(STORED, unified={"pids.max": "5"})
    write, merged = merge_update(stored, {})
    assert "unified" not in write and merged["unified"] == {"pids.max": "5"}
    write, merged = merge_update(stored, {"unified": {"hugetlb.2MB.max": "0"}})
    assert write["unified"] == {"hugetlb.2MB.max": "0"}
    assert merged["unified"] == {"pids.max": "5", "hugetlb.2MB.max": "0"}
