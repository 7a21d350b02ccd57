"""The systemd driver's pure parts: names, slices, unit properties, annotations.
(Against systemd itself: tests/systemd, in the guest.)"""

from __future__ import annotations

import pytest

from runtime.cgroups import CgroupError
from runtime.cgroups.devices import rules_from_oci
from runtime.cgroups.files import MAX_UINT64
from runtime.cgroups.systemd import properties as p
from runtime.cgroups.systemd.gvariant import annotation_properties, parse
from runtime.cgroups.systemd.unit import expand_slice, parse_path, unit_name


def test_path_defaults_and_unit_names():
    assert parse_path("c1", None) == ("", "runc", "c1")
    assert parse_path("c1", "system.slice:docker:abc") == ("system.slice", "docker", "abc")
    assert unit_name("docker", "abc") == "docker-abc.scope"
    assert unit_name("ignored", "kubepods-pod1.slice") == "kubepods-pod1.slice"
    with pytest.raises(CgroupError, match='expected cgroupsPath to be of format'):
        parse_path("c1", "/a/b")


@pytest.mark.parametrize("name, path", [
    ("system.slice", "/system.slice"),
    ("kubepods-burstable-pod12.slice", "/kubepods.slice/kubepods-burstable.slice/"
                                       "kubepods-burstable-pod12.slice"),
    ("-.slice", "/"),
])
def test_expand_slice(name, path):
    assert expand_slice(name) == path


@pytest.mark.parametrize("name", ["a--b.slice", "-a.slice", "a.slice/b.slice", "abc", ".slice"])
def test_bad_slice_names(name):
    with pytest.raises(CgroupError, match=f"^invalid slice name: {name}$"):
        expand_slice(name)


def test_range_to_bits_is_little_endian():
    assert p.range_to_bits("0") == b"\x01"
    assert p.range_to_bits("0-2,9") == b"\x07\x02"


def test_cpu_quota_rounds_up_to_whole_percents_and_writes_the_rounded_value():
    props: list = []
    cpu = {"quota": 12345, "period": 100000}
    p.cpu_quota(props, cpu)
    assert props == [("CPUQuotaPeriodUSec", ("t", 100000)), ("CPUQuotaPerSecUSec", ("t", 130000))]
    assert cpu["quota"] == 13000
    props = []
    p.cpu_quota(props, {"quota": -1, "period": 50000})
    assert props[-1] == ("CPUQuotaPerSecUSec", ("t", MAX_UINT64))


def test_v2_properties():
    res = {"memory": {"limit": 64 << 20, "reservation": 32 << 20, "swap": 128 << 20},
           "cpu": {"shares": 1024, "quota": 50000, "period": 100000, "cpus": "0", "mems": "0"},
           "pids": {"limit": 42}, "blockIO": {"weight": 500, "throttleReadBpsDevice": [
               {"major": 8, "minor": 0, "rate": 1048576}]}}
    props = dict(p.from_resources(res, unified=True, version=252, rules=None))
    assert props["MemoryMax"] == ("t", 64 << 20)
    assert props["MemoryLow"] == ("t", 32 << 20)
    assert props["MemorySwapMax"] == ("t", 64 << 20)
    assert props["CPUWeight"] == ("t", 39)
    assert props["CPUQuotaPerSecUSec"] == ("t", 500000)
    assert props["TasksMax"] == ("t", 42)
    assert props["AllowedCPUs"] == ("ay", b"\x01")
    assert props["IOWeight"] == ("t", 4950)
    assert props["IOReadBandwidthMax"] == ("a(st)", [("/dev/block/8:0", 1048576)])
    old = dict(p.from_resources(res, unified=True, version=243, rules=None))
    assert "AllowedCPUs" not in old  # systemd < 244 has no such property


def test_v1_properties_use_the_v1_names():
    res = {"memory": {"limit": 1 << 30}, "cpu": {"shares": 512}, "blockIO": {"weight": 300},
           "pids": {"limit": -1}}
    props = dict(p.from_resources(res, unified=False, version=252, rules=None))
    assert props == {"MemoryLimit": ("t", 1 << 30), "CPUShares": ("t", 512),
                     "BlockIOWeight": ("t", 300), "TasksMax": ("t", MAX_UINT64)}


def test_device_properties():
    rules = rules_from_oci([{"allow": False, "access": "rwm"},
                            {"allow": True, "type": "c", "major": 10, "minor": 200,
                             "access": "rwm"}], [])
    props = dict(p.devices(rules))
    assert props["DevicePolicy"] == ("s", "strict")
    allow = dict(props["DeviceAllow"][1])
    assert allow["/dev/char/10:200"] == "rwm"
    assert allow["/dev/char/1:3"] == "rwm"        # runc's default list: /dev/null
    assert allow["char-136"] == "rwm"             # /dev/pts/*
    everything = rules_from_oci([{"allow": True, "access": "rwm"}], [])
    assert dict(p.devices(everything))["DevicePolicy"] == ("s", "auto")


@pytest.mark.parametrize("text, variant", [
    ("uint64 123", ("t", 123)), ("true", ("b", True)), ("'inactive-or-failed'",
                                                        ("s", "inactive-or-failed")),
    ('"x y"', ("s", "x y")), ("5", ("i", 5)), ("1.5", ("d", 1.5)), ("@t 7", ("t", 7)),
    ("['a', 'b']", ("as", ["a", "b"])), ("@as []", ("as", [])),
    ("[('/dev/null', 'rw')]", ("a(ss)", [("/dev/null", "rw")])),
])
def test_gvariant_text(text, variant):
    assert parse(text) == variant


@pytest.mark.parametrize("text", ["", "[]", "'open", "uint64 -1", "byte 256", "1 2", "[1, 'a']"])
def test_gvariant_text_refused(text):
    with pytest.raises(CgroupError):
        parse(text)


def test_annotations_become_properties_as_in_runc():
    got = annotation_properties({
        "org.systemd.property.TimeoutStopSec": "uint64 123",
        "org.systemd.property.CollectMode": "'inactive-or-failed'",
        "org.other": "x"})
    assert got == [("CollectMode", ("s", "inactive-or-failed")),
                   ("TimeoutStopUSec", ("t", 123000000))]
    with pytest.raises(CgroupError, match="^annotation org.systemd.property.Ab name "
                                          "incorrect: too short$"):
        annotation_properties({"org.systemd.property.Ab": "1"})
    with pytest.raises(CgroupError, match="^annotation org.systemd.property.A_b name "
                                          "incorrect: contains non-alphabetic character$"):
        annotation_properties({"org.systemd.property.A_b": "1"})
    with pytest.raises(CgroupError, match="^annotation org.systemd.property.TimeoutSec=true "
                                          "value parse error: not a number$"):
        annotation_properties({"org.systemd.property.TimeoutSec": "true"})
