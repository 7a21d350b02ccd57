"""The requests pyrunc sends to criu, read by a fake `criu swrk` (tests/criu/fake_criu.py)
that records them: runc (which honours --criu too) sends the same ones for the same
container.  These need no working criu and run on any host."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.criu.crlib import COUNTER, Pipes
from tests.support.runtime import REPO


@pytest.fixture
def fake_criu(tmp_path):
    """(path of a criu that records, path of its record)."""
    path = tmp_path / "criu"
    path.write_text(f"#!{sys.executable}\nimport runpy\n"
                    f"runpy.run_path({os.path.join(REPO, 'tests/criu/fake_criu.py')!r}, "
                    "run_name='__main__')\n")
    path.chmod(0o755)
    return str(path), str(tmp_path / "record")


def _requests(record: str) -> list[dict]:
    """The recorded requests as {field: [values]} (protobuf text, one level deep)."""
    with open(record) as f:
        blocks = f.read().split("---\n")
    out = []
    for block in blocks:
        if not block.strip():
            continue
        fields: dict[str, list] = {}
        stack: list[str] = []
        pending: dict[str, str] = {}
        for line in block.splitlines():
            line = line.strip()
            if line.endswith("{"):
                stack.append(line[:-1].strip())
                pending = {}
            elif line == "}":
                name = stack.pop()
                if stack:
                    fields.setdefault(name, []).append(tuple(sorted(pending.items())))
                pending = {}
            elif ":" in line:
                key, value = line.split(":", 1)
                if len(stack) > 1:
                    pending[key.strip()] = value.strip()
                else:
                    fields.setdefault(key.strip(), []).append(value.strip())
        out.append(fields)
    return out


def _checkpoint_request(rt, bundle, tmp_path, fake, *flags: str) -> dict:
    criu, record = fake
    p = Pipes()
    try:
        assert p.run(rt, "run", "-d", "-b", bundle.path, bundle.id) == 0, p.error()
        p.given()
        env = dict(os.environ, FAKE_CRIU_RECORD=record)
        r = subprocess.run([rt.path, "--root", rt.root, "--criu", criu, "checkpoint",
                            "--image-path", str(tmp_path / "img"), *flags, bundle.id],
                           env=env, capture_output=True, text=True, timeout=120)
        assert r.returncode != 0  # the fake criu refuses every dump
        assert "dump.log" in r.stderr
        assert rt.status(bundle.id) == "running"
    finally:
        rt("delete", "--force", bundle.id)
        p.close()
    reqs = _requests(record)
    assert len(reqs) == 1
    return reqs[0]


def test_dump_request_as_runc(any_rt, bundle, tmp_path, fake_criu):
    """Every option runc sets for a dump; external mounts: the bind mount, the masked
    files, the devices and the cgroup binds."""
    host_dir = tmp_path / "vol"
    host_dir.mkdir()
    bundle.config["mounts"].append({"destination": "/vol", "type": "bind",
                                    "source": str(host_dir), "options": ["rbind", "rw"]})
    bundle.config["annotations"] = {"org.criu.config": "/etc/criu/special.conf"}
    bundle.sh(COUNTER)
    req = _checkpoint_request(any_rt, bundle, tmp_path, fake_criu, "--tcp-established",
                              "--file-locks", "--leave-running", "--auto-dedup",
                              "--page-server", "127.0.0.1:27")
    assert req["type"] == ["DUMP"]
    for field, value in [("leave_running", "true"), ("tcp_established", "true"),
                         ("file_locks", "true"), ("auto_dedup", "true"), ("shell_job", "false"),
                         ("ext_unix_sk", "false"), ("log_level", "4"),
                         ("log_file", '"dump.log"'), ("notify_scripts", "true"),
                         ("manage_cgroups", "true"), ("orphan_pts_master", "true"),
                         ("empty_ns", str(0x40000000)),
                         ("config_file", '"/etc/criu/special.conf"')]:
        assert req.get(field) == [value], (field, req.get(field))
    assert req["root"] == [f'"{os.path.realpath(bundle.config["root"]["path"])}"']
    assert req["ps"] == [(("address", '"127.0.0.1"'), ("port", "27"))]
    mounts = {dict(m)["key"].strip('"'): dict(m)["val"].strip('"') for m in req["ext_mnt"]}
    assert mounts["/vol"] == "/vol"
    assert mounts["/proc/keys"] == "/dev/null"       # a masked file
    assert "/proc/acpi" not in mounts                  # a masked directory is a tmpfs
    assert mounts["/dev/null"] == "/dev/null"
    cgroup_binds = {k for k in mounts if k.startswith("/sys/fs/cgroup")}
    assert cgroup_binds, mounts
    freezer = req["freeze_cgroup"][0].strip('"')
    assert bundle.linux["cgroupsPath"] in freezer


def test_pre_dump_request(any_rt, bundle, tmp_path, fake_criu):
    bundle.sh(COUNTER)
    (tmp_path / "img" / "parent").mkdir(parents=True)
    req = _checkpoint_request(any_rt, bundle, tmp_path, fake_criu, "--pre-dump",
                              "--parent-path", "parent")
    assert req["type"] == ["PRE_DUMP"]
    assert req["parent_img"] == ['"parent"']
    assert req["track_mem"] == ["true"]
    assert "ext_mnt" not in req    # no mounts for a pre-dump, as runc
    assert not (tmp_path / "img" / "descriptors.json").exists()


def test_restore_request(any_rt, bundle, tmp_path, fake_criu):
    """The restore's options: criu restores as our sibling under a bind of the rootfs,
    the image's pipes become our stdio, bind sources come from this bundle."""
    criu, record = fake_criu
    host_dir = tmp_path / "vol"
    host_dir.mkdir()
    bundle.config["mounts"].append({"destination": "/vol", "type": "bind",
                                    "source": str(host_dir), "options": ["rbind", "rw"]})
    bundle.sh(COUNTER)
    img = tmp_path / "img"
    img.mkdir()
    (img / "descriptors.json").write_text('["pipe:[1234]", "/dev/null", "pipe:[5678]"]')
    env = dict(os.environ, FAKE_CRIU_RECORD=record)
    p = Pipes()
    r = subprocess.run([any_rt.path, "--root", any_rt.root, "--criu", criu, "restore", "-d",
                        "-b", bundle.path, "--image-path", str(img), "--tcp-established",
                        "--manage-cgroups-mode", "full", bundle.id],
                       env=env, stdin=p.in_r, stdout=p.out_w, stderr=p.err_w, timeout=120)
    err = p.error()
    p.close()
    assert r.returncode != 0, err
    assert any_rt.ids() == []
    reqs = _requests(record)
    assert len(reqs) == 1
    req = reqs[0]
    assert req["type"] == ["RESTORE"]
    for field, value in [("rst_sibling", "true"), ("evasive_devices", "true"),
                         ("tcp_established", "true"), ("manage_cgroups", "true"),
                         ("log_file", '"restore.log"'), ("notify_scripts", "true"),
                         ("orphan_pts_master", "true"), ("empty_ns", str(0x40000000))]:
        assert req.get(field) == [value], (field, req.get(field))
    if os.path.basename(any_rt.path).startswith("pyrunc"):
        # runc 1.1 drops --manage-cgroups-mode on a restore (later runc sends it)
        assert req["manage_cgroups_mode"] == ["FULL"]
    assert req["root"][0].strip('"').endswith(f"/{bundle.id}/criu-root")
    inherited = {dict(i)["key"].strip('"'): dict(i)["fd"] for i in req["inherit_fd"]}
    assert inherited == {"pipe:[1234]": "0", "pipe:[5678]": "2"}
    mounts = {dict(m)["key"].strip('"'): dict(m)["val"].strip('"') for m in req["ext_mnt"]}
    assert mounts["/vol"] == str(host_dir)
    assert mounts["/dev/null"] == "/dev/null"
    # criu was put in the container's cgroups: their paths are the roots it restores into
    roots = [dict(c).get("path", "").strip('"') for c in req["cg_root"]]
    assert any(bundle.linux["cgroupsPath"] in path for path in roots), roots
    with open("/proc/self/mountinfo") as f:
        assert "criu-root" not in f.read()
