"""Our JSON Schemas, checked with jsonschema against the upstream test files and our rules."""

import copy
import json

import jsonschema
import pytest
from spec_testlib import (
    OUR_SCHEMAS,
    full_linux_config,
    load_json,
    our_validator,
    upstream_params,
    upstream_validator,
)

KINDS = ("config", "state", "features")


@pytest.mark.parametrize("path", sorted(OUR_SCHEMAS.glob("*.json")), ids=lambda p: p.name)
def test_schema_is_valid_draft_2020_12(path):
    jsonschema.Draft202012Validator.check_schema(load_json(path))


@pytest.mark.parametrize(
    "kind,path",
    upstream_params(KINDS, ("good",)),
)
def test_upstream_good_files_are_accepted(kind, path):
    errors = [e.message for e in our_validator(kind, strict=False).iter_errors(load_json(path))]
    assert errors == []


@pytest.mark.parametrize(
    "kind,path",
    upstream_params(KINDS, ("bad",)),
)
def test_upstream_bad_files_are_rejected(kind, path):
    try:
        doc = json.loads(path.read_text())
    except ValueError:
        return  # not JSON at all: rejected before any schema is consulted
    assert not our_validator(kind, strict=False).is_valid(doc)


def test_full_linux_example_is_valid_for_us_and_upstream():
    cfg = full_linux_config()
    assert list(our_validator("config").iter_errors(cfg)) == []
    assert list(upstream_validator("config").iter_errors(cfg)) == []


def _set(doc: dict, dotted: str, value) -> dict:
    """Copy of doc with the value at a dotted path (digits index lists) replaced or deleted."""
    doc = copy.deepcopy(doc)
    *parents, last = dotted.split(".")
    node = doc
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node.setdefault(part, {})
    key = int(last) if isinstance(node, list) else last
    if value is DELETE:
        del node[key]
    else:
        node[key] = value
    return doc


DELETE = object()

# Rules the spec text states that the upstream schema leaves out: (path, new value).
STRICTER_THAN_UPSTREAM = [
    ("root", DELETE),
    ("ociVersion", "1.0"),
    ("process.args", []),
    ("process.args", DELETE),
    ("process.user.uid", DELETE),
    ("process.ioPriority.priority", DELETE),
    ("process.execCPUAffinity.final", "0-3 7"),
    ("hooks.poststop.0.path", "relative/cleanup.sh"),
    ("annotations", {"": "empty key"}),
    ("linux.namespaces.1.path", "var/run/netns/x"),
    ("linux.maskedPaths.0", "proc/kcore"),
    ("linux.devices.0.major", DELETE),
    ("linux.resources.devices.1.type", "x"),
    ("linux.resources.devices.1.access", "rwx"),
    ("linux.resources.blockIO.weightDevice.1", {"major": 8, "minor": 16}),
    ("linux.resources.blockIO.throttleReadBpsDevice.0.rate", DELETE),
    ("linux.resources.rdma.mlx4_0", {}),
    ("mounts.1.gidMappings", DELETE),
    ("linux.seccomp.listenerPath", DELETE),
    ("linux.memoryPolicy.mode", DELETE),
    ("linux.memoryPolicy.nodes", "all"),
    ("linux.personality.domain", DELETE),
    ("linux.intelRdt.schemata.0", "L2:0=f\nL3:0=f"),
]


@pytest.mark.parametrize("dotted,value", STRICTER_THAN_UPSTREAM, ids=lambda x: str(x)[:30])
def test_spec_rules_beyond_upstream_schema_are_enforced(dotted, value):
    cfg = _set(full_linux_config(), dotted, value)
    assert upstream_validator("config").is_valid(cfg), "case should only test a stricter rule"
    assert not our_validator("config").is_valid(cfg)


@pytest.mark.parametrize("value", ["rshared", "rslave", "rprivate", "runbindable"])
def test_recursive_rootfs_propagation_is_accepted_like_runc(value):
    cfg = _set(full_linux_config(), "linux.rootfsPropagation", value)
    assert our_validator("config").is_valid(cfg)


def test_windows_config_needs_no_root_and_no_args():
    cfg = {
        "ociVersion": "1.3.0",
        "process": {"cwd": "c:\\", "commandLine": "cmd.exe", "user": {"username": "admin"}},
        "windows": {"layerFolders": ["c:\\layers\\1"]},
    }
    assert list(our_validator("config").iter_errors(cfg)) == []


def test_fifo_device_needs_no_numbers_but_others_do():
    fifo = {"ociVersion": "1.3.0", "root": {"path": "r"}, "linux": {"devices": [{}]}}
    fifo["linux"]["devices"][0] = {"type": "p", "path": "/dev/f"}
    assert our_validator("config").is_valid(fifo)
    fifo["linux"]["devices"][0]["type"] = "c"
    assert not our_validator("config").is_valid(fifo)


def test_state_needs_pid_only_while_it_runs():
    state = {"ociVersion": "1.3.0", "id": "c1", "status": "stopped", "bundle": "/b"}
    assert our_validator("state").is_valid(state)
    for status in ("created", "running"):
        assert not our_validator("state").is_valid(dict(state, status=status))
        assert our_validator("state").is_valid(dict(state, status=status, pid=42))
    assert not our_validator("state").is_valid(dict(state, bundle="relative"))


def test_features_properties_may_be_null():
    features = {
        "ociVersionMin": "1.0.0",
        "ociVersionMax": "1.3.0",
        "hooks": None,
        "annotations": None,
        "linux": {"seccomp": None, "cgroup": {"v2": None}, "mountExtensions": {"idmap": None}},
    }
    assert our_validator("features").is_valid(features)
    assert not our_validator("features").is_valid(dict(features, ociVersionMax=None))
