"""checkpoint/restore that cannot succeed: a clear error, and the container left as
it was (a failed checkpoint) or nothing left behind (a failed restore).  These
need a running container and a criu that fails, not a working criu: they run on
this host (where criu cannot dump at all) and in the guest."""

from __future__ import annotations

import os

import pytest

from tests.criu.crlib import COUNTER, Pipes


@pytest.fixture
def counting(any_rt, bundle):
    """A detached counting container on pipes; yields the Pipes."""
    bundle.sh(COUNTER)
    p = Pipes()
    assert p.run(any_rt, "run", "-d", "-b", bundle.path, bundle.id) == 0, p.error()
    p.given()
    p.wait_numbers(2)
    yield p
    any_rt("delete", "--force", bundle.id)
    p.close()


def _still_counting(rt, cid: str, p: Pipes) -> None:
    assert rt.status(cid) == "running"
    seen = len(p.numbers())
    p.wait_numbers(seen + 2)


def _last_line(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    assert lines, "no error output"
    return lines[-1]


def test_checkpoint_without_criu(any_rt, bundle, counting, tmp_path):
    import subprocess

    missing = "/nonexistent/criu"
    proc = subprocess.run([any_rt.path, "--root", any_rt.root, "--criu", missing, "checkpoint",
                           "--image-path", str(tmp_path / "img"), bundle.id],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode != 0
    assert missing in proc.stderr
    _still_counting(any_rt, bundle.id, counting)


@pytest.mark.parametrize("flags,message", [
    (["--manage-cgroups-mode", "bogus"], "Invalid manage cgroups mode"),
    (["--empty-ns", "ipc"], 'namespace \\"ipc\\" is not supported'),
    (["--page-server", "nocolon"], "Use --page-server ADDRESS:PORT to specify page server"),
    (["--parent-path", "/abs"], "--parent-path must be relative"),
    (["--bogus"], "flag provided but not defined: -bogus"),
])
def test_checkpoint_refused_flag(any_rt, bundle, counting, tmp_path, flags, message):
    r = any_rt("checkpoint", "--image-path", str(tmp_path / "img"), *flags, bundle.id)
    assert r.returncode != 0
    assert message in _last_line(r.stderr)
    _still_counting(any_rt, bundle.id, counting)


def test_checkpoint_created_container_refused(any_rt, bundle, tmp_path):
    bundle.args("/bin/sleep", "100")
    any_rt("create", "-b", bundle.path, bundle.id, check=True)
    r = any_rt("checkpoint", "--image-path", str(tmp_path / "img"), bundle.id)
    assert r.returncode != 0
    assert "Container cannot be checkpointed in created state" in _last_line(r.stderr)
    assert any_rt.status(bundle.id) == "created"


def test_checkpoint_missing_container(any_rt, tmp_path):
    r = any_rt("checkpoint", "--image-path", str(tmp_path / "img"), "nope")
    assert r.returncode != 0
    assert "does not exist" in _last_line(r.stderr)


def test_failed_dump_names_the_log(any_rt, bundle, counting, tmp_path):
    """criu fails (no page server listens on port 1; on a kernel criu cannot run on,
    earlier): the error names criu's log, the container counts on."""
    img = tmp_path / "img"
    r = any_rt("checkpoint", "--image-path", str(img), "--page-server", "127.0.0.1:1",
               bundle.id, timeout=300)
    assert r.returncode != 0
    assert "dump.log" in r.stderr
    assert (img / "dump.log").exists()
    _still_counting(any_rt, bundle.id, counting)


def _nothing_left(rt, bundle) -> None:
    assert rt.ids() == []
    assert not os.path.exists(os.path.join(rt.root, bundle.id))
    cg = bundle.linux["cgroupsPath"]
    for hierarchy in ("/sys/fs/cgroup/pids", "/sys/fs/cgroup/memory", "/sys/fs/cgroup"):
        if os.path.isdir(hierarchy + "/" + cg.split("/")[1]):
            assert not os.path.exists(hierarchy + cg), f"{hierarchy + cg} left behind"
    with open("/proc/self/mountinfo") as f:
        assert "criu-root" not in f.read()


def test_restore_from_a_bad_image_dir(any_rt, bundle, tmp_path):
    """An image directory with no checkpoint in it: criu (or runc before it) fails;
    pyrunc names criu's log; nothing is left."""
    bundle.sh(COUNTER)
    img = tmp_path / "img"
    img.mkdir()
    (img / "garbage.img").write_bytes(b"not an image")
    p = Pipes()
    rc = p.run(any_rt, "restore", "-d", "-b", bundle.path, "--image-path", str(img),
               bundle.id)
    err = p.error()
    p.close()
    assert rc != 0
    if os.path.basename(any_rt.path).startswith("pyrunc"):
        assert "restore.log" in _last_line(err)
    _nothing_left(any_rt, bundle)


def test_restore_from_a_missing_image_dir(rt, bundle, tmp_path):
    bundle.sh(COUNTER)
    r = rt("restore", "-d", "-b", bundle.path, "--image-path", str(tmp_path / "none"),
           bundle.id)
    assert r.returncode != 0
    assert "image directory" in _last_line(r.stderr)
    assert not (tmp_path / "none").exists()
    _nothing_left(rt, bundle)


def test_restore_without_criu(any_rt, bundle, tmp_path):
    import subprocess

    bundle.sh(COUNTER)
    img = tmp_path / "img"
    img.mkdir()
    missing = "/nonexistent/criu"
    proc = subprocess.run([any_rt.path, "--root", any_rt.root, "--criu", missing, "restore",
                           "-d", "-b", bundle.path, "--image-path", str(img), bundle.id],
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120)
    assert proc.returncode != 0
    assert missing in proc.stderr
    _nothing_left(any_rt, bundle)
