"""spec.config: reading config.json from a bundle and the errors a user sees."""

import copy
import json
import os
import shutil
import subprocess
import sys

import pytest
from spec_testlib import REPO, full_linux_config

from spec.config import (
    ConfigError,
    load_config,
    load_process,
    validate_config,
    validate_process,
)
from spec.defaults import default_config


def _bundle(tmp_path, text: str | bytes) -> str:
    data = text.encode() if isinstance(text, str) else text
    (tmp_path / "config.json").write_bytes(data)
    return str(tmp_path)


def _error(fn, *args) -> str:
    with pytest.raises(ConfigError) as info:
        fn(*args)
    message = str(info.value)
    assert "\n" not in message and "Traceback" not in message
    return message


def test_loads_a_valid_config(tmp_path):
    cfg = default_config()
    assert load_config(_bundle(tmp_path, json.dumps(cfg))) == cfg


def test_missing_bundle_directory(tmp_path):
    missing = str(tmp_path / "nope")
    assert _error(load_config, missing) == f"bundle {missing}: no such directory"


def test_bundle_that_is_a_file(tmp_path):
    f = tmp_path / "file"
    f.write_text("")
    assert _error(load_config, str(f)) == f"bundle {f}: not a directory"


def test_missing_config_json_is_named_like_runc_does(tmp_path):
    message = _error(load_config, str(tmp_path))
    assert message == f"JSON specification file {tmp_path}/config.json not found"


@pytest.mark.skipif(shutil.which("runc") is None, reason="runc is not installed")
def test_missing_config_json_message_has_runcs_gist(tmp_path):
    # runc 1.1.5: "JSON specification file config.json not found" (relative to the bundle).
    run = subprocess.run(
        ["runc", "--root", str(tmp_path / "state"), "create", "--bundle", str(tmp_path), "t"],
        capture_output=True,
        text=True,
    )
    assert run.returncode != 0
    assert "JSON specification file config.json not found" in run.stderr
    assert _error(load_config, str(tmp_path)).startswith("JSON specification file ")


def test_config_json_that_is_a_directory(tmp_path):
    (tmp_path / "config.json").mkdir()
    assert _error(load_config, str(tmp_path)) == f"read {tmp_path}/config.json: is a directory"


def test_invalid_json_gives_line_and_column(tmp_path):
    message = _error(load_config, _bundle(tmp_path, '{\n  "ociVersion": "1.3.0",\n  ]\n}'))
    assert message.startswith(f"{tmp_path}/config.json: invalid JSON: ")
    assert "line 3 column 3" in message


def test_truncated_json(tmp_path):
    message = _error(load_config, _bundle(tmp_path, '{"ociVersion": '))
    assert message.startswith(f"{tmp_path}/config.json: invalid JSON: ")
    assert "line 1 column 16" in message


def test_trailing_garbage(tmp_path):
    message = _error(load_config, _bundle(tmp_path, json.dumps(default_config()) + " x"))
    assert "invalid JSON: Extra data" in message


def test_nan_is_not_an_integer(tmp_path):
    cfg = json.dumps(default_config()).replace('"hard": 1024', '"hard": NaN')
    message = _error(load_config, _bundle(tmp_path, cfg))
    assert message.endswith(
        "process.rlimits[0].hard: expected an integer, got a number with a fraction"
    )


def test_non_utf8_bytes(tmp_path):
    message = _error(load_config, _bundle(tmp_path, b'{"ociVersion": "\xff"}'))
    assert message == f"{tmp_path}/config.json: not valid UTF-8 at byte 16"


def test_schema_violation_names_file_and_json_path(tmp_path):
    cfg = default_config()
    cfg["process"]["args"] = []
    message = _error(load_config, _bundle(tmp_path, json.dumps(cfg)))
    assert message == f"{tmp_path}/config.json: process.args: expected a non-empty array"


def test_top_level_must_be_an_object(tmp_path):
    message = _error(load_config, _bundle(tmp_path, "[]"))
    assert message == f"{tmp_path}/config.json: expected an object, got an array"


def _broken(edit) -> str:
    cfg = copy.deepcopy(full_linux_config())
    edit(cfg)
    return _error(validate_config, cfg)


@pytest.mark.parametrize(
    "edit,expected",
    [
        (lambda c: c.pop("ociVersion"), 'missing required property "ociVersion"'),
        (lambda c: c.update(ociVersion="1.3"), 'ociVersion: "1.3" is not a SemVer 2.0.0 version'),
        (lambda c: c.pop("root"), 'missing required property "root"'),
        (lambda c: c["process"].pop("args"), 'process: missing required property "args"'),
        (
            lambda c: c["process"]["args"].append(7),
            "process.args[3]: expected a string, got an integer",
        ),
        (
            lambda c: c["linux"]["namespaces"][2].update(type="foo"),
            'linux.namespaces[2].type: "foo" is not one of pid, network, mount, ipc, uts, '
            "user, cgroup, time",
        ),
        (
            lambda c: c["process"]["user"].update(uid=-1),
            "process.user.uid: -1 is out of range for uint32",
        ),
        (
            lambda c: c["process"]["user"].update(gid=1.0),
            "process.user.gid: expected an integer, got a number with a fraction",
        ),
        (
            lambda c: c["process"].update(terminal=1),
            "process.terminal: expected a boolean, got an integer",
        ),
        (
            lambda c: c["hooks"]["poststop"][0].update(path="cleanup.sh"),
            'hooks.poststop[0].path: "cleanup.sh" must be an absolute path',
        ),
        (
            lambda c: c["hooks"]["poststart"][0].update(timeout=0),
            "hooks.poststart[0].timeout: 0 is less than 1",
        ),
        (
            lambda c: c["linux"]["sysctl"].update({"net.core.x": 1}),
            'linux.sysctl["net.core.x"]: expected a string, got an integer',
        ),
        (
            lambda c: c["annotations"].update({"": "v"}),
            "annotations: property names must not be empty",
        ),
        (
            lambda c: c["linux"]["devices"][0].pop("minor"),
            'linux.devices[0]: missing required property "minor"',
        ),
        (
            lambda c: c["linux"]["resources"]["rdma"].update(mlx={}),
            'linux.resources.rdma.mlx: needs at least one of "hcaHandles", "hcaObjects"',
        ),
        (
            lambda c: c["mounts"][1].pop("uidMappings"),
            'mounts[1]: "gidMappings" is set but "uidMappings" is missing',
        ),
        (
            lambda c: c["linux"]["resources"]["hugepageLimits"][0].update(pageSize="2mb"),
            'linux.resources.hugepageLimits[0].pageSize: "2mb" is not a page size like 64KB, '
            "2MB or 1GB",
        ),
        (
            lambda c: c["linux"]["seccomp"]["syscalls"][0].update(names=[]),
            "linux.seccomp.syscalls[0].names: expected a non-empty array",
        ),
    ],
)
def test_violation_messages(edit, expected):
    assert _broken(edit) == expected


def test_unknown_properties_are_ignored():
    cfg = full_linux_config()
    cfg["x-vendor"] = {"anything": [1, None]}
    cfg["linux"]["resources"]["oomScoreAdj"] = 100
    validate_config(cfg)


def test_process_validation_and_loading(tmp_path):
    proc = default_config()["process"]
    validate_process(proc)
    path = tmp_path / "process.json"
    path.write_text(json.dumps(proc))
    assert load_process(str(path)) == proc
    del proc["cwd"]
    assert _error(validate_process, proc) == 'missing required property "cwd"'
    path.write_text(json.dumps(proc))
    assert _error(load_process, str(path)) == f'{path}: missing required property "cwd"'
    missing = str(tmp_path / "none.json")
    assert _error(load_process, missing) == f"open {missing}: no such file or directory"
    below_file = f"{path}/x.json"
    assert _error(load_process, below_file) == f"open {below_file}: not a directory"


@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("setpriv") is None, reason="needs root")
def test_unreadable_config_json(tmp_path):
    bundle = _bundle(tmp_path, "{}")
    os.chmod(tmp_path / "config.json", 0)
    os.chmod(tmp_path, 0o755)
    code = f"from spec.config import load_config\nload_config({bundle!r})"
    run = subprocess.run(
        ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=REPO,
    )
    assert f"ConfigError: open {bundle}/config.json: permission denied" in run.stderr
