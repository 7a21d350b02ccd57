"""spec.defaults: the same config.json as `runc spec`, apart from ociVersion."""

import json
import os
import shutil
import subprocess
import sys

import pytest
from spec_testlib import REPO, our_validator, upstream_validator

from spec import SPEC_VERSION
from spec.config import validate_config
from spec.defaults import default_config

needs_runc = pytest.mark.skipif(shutil.which("runc") is None, reason="runc is not installed")


def _runc_spec(tmp_path, *flags: str) -> str:
    subprocess.run(["runc", "spec", *flags], cwd=tmp_path, check=True)
    return (tmp_path / "config.json").read_text()


@needs_runc
@pytest.mark.parametrize("rootless", [False, True])
def test_same_json_as_runc_spec_except_version(tmp_path, rootless):
    runc_text = _runc_spec(tmp_path, *(["--rootless"] if rootless else []))
    ours = default_config(rootless=rootless)
    assert ours["ociVersion"] == SPEC_VERSION == "1.3.0"
    theirs = json.loads(runc_text)
    theirs["ociVersion"] = ours["ociVersion"]
    assert ours == theirs
    # Same key order too: runc writes tab-indented JSON without a final newline.
    ours["ociVersion"] = json.loads(runc_text)["ociVersion"]
    assert json.dumps(ours, indent="\t") == runc_text


@needs_runc
@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("setpriv") is None, reason="needs root")
def test_rootless_maps_the_callers_ids_like_runc(tmp_path):
    tmp_path.chmod(0o777)
    as_nobody = ["setpriv", "--reuid=65534", "--regid=65533", "--clear-groups"]
    subprocess.run([*as_nobody, "runc", "spec", "--rootless"], cwd=tmp_path, check=True)
    theirs = json.loads((tmp_path / "config.json").read_text())
    code = "import json; from spec.defaults import default_config as d; print(json.dumps(d(True)))"
    run = subprocess.run(
        [*as_nobody, sys.executable, "-c", code], cwd=REPO, capture_output=True, check=True
    )
    ours = json.loads(run.stdout)
    assert ours["linux"]["uidMappings"] == [{"containerID": 0, "hostID": 65534, "size": 1}]
    assert ours["linux"] == theirs["linux"]


@pytest.mark.parametrize("rootless", [False, True])
def test_valid_for_upstream_schema_and_ours(rootless):
    cfg = default_config(rootless=rootless)
    assert list(upstream_validator("config").iter_errors(cfg)) == []
    assert list(our_validator("config").iter_errors(cfg)) == []
    validate_config(cfg)


def test_each_call_returns_a_fresh_dict():
    first = default_config()
    first["process"]["capabilities"]["bounding"].append("CAP_SYS_ADMIN")
    first["mounts"][2]["options"].clear()
    assert default_config() == json.loads(json.dumps(default_config()))
    assert "CAP_SYS_ADMIN" not in default_config()["process"]["capabilities"]["bounding"]
    assert default_config()["mounts"][2]["options"]
