"""Failing hooks (runtime.md "Lifecycle"): a failing prestart, createRuntime or
createContainer hook fails `create` and leaves nothing behind; a failing
startContainer or poststart hook fails `start` and stops the container; a
failing poststop hook is a warning.  After a failure the container is destroyed
and the poststop hooks run (steps 12 and 13)."""

from __future__ import annotations

import os
import time
import uuid

import pytest

from tests.hooks.hooklib import BUSYBOX, Recorder, pids_with
from tests.support import leaks

CREATE_KINDS = ("prestart", "createRuntime", "createContainer")


def _assert_nothing_left(rt, bundle, init_pid: int) -> None:
    assert rt.ids() == []
    assert not os.path.exists(os.path.join(rt.root, bundle.id))
    assert leaks.cgroup_dirs(bundle.linux["cgroupsPath"]) == []
    for d in ("memory", "pids", "cpu"):
        assert not os.path.exists(f"/sys/fs/cgroup/{d}{bundle.linux['cgroupsPath']}")
    assert not os.path.exists(f"/proc/{init_pid}"), "the container's init survived"


@pytest.mark.parametrize("kind", CREATE_KINDS)
def test_a_failing_create_hook_fails_create_and_leaves_nothing(rt, bundle, kind):
    rec = Recorder(bundle)
    rec.add("prestart", "record-pid")  # to learn the init's host pid
    rec.add(kind, code=3)
    rec.add("poststop")
    p = rt("create", "-b", bundle.path, bundle.id)
    assert p.returncode == 1
    assert f"error running {kind} hook #" in p.stderr
    assert "exit status 3" in p.stderr
    init_pid = rec.state("record-pid")["pid"]
    _assert_nothing_left(rt, bundle, init_pid)
    # Destroyed, then the poststop hooks ran.
    assert rec.order()[-1] == "poststop"
    assert rec.state("poststop")["status"] == "stopped"


def test_the_error_quotes_the_hooks_output(rt, bundle):
    Recorder(bundle).add_raw("prestart", {
        "path": BUSYBOX, "args": ["sh", "-c", "echo to-stdout; echo to-stderr >&2; exit 4"]})
    p = rt("create", "-b", bundle.path, bundle.id)
    assert p.returncode == 1
    line = p.stderr.strip().splitlines()[-1]
    assert "error running prestart hook #0" in line
    assert "exit status 4" in line and "to-stdout" in line and "to-stderr" in line


def test_a_hook_past_its_timeout_is_killed_and_fails_create(rt, bundle):
    token = f"{uuid.uuid4().int % 10**6 + 10**6}"
    Recorder(bundle).add_raw("createRuntime", {"path": BUSYBOX, "args": ["sleep", token],
                                               "timeout": 1})
    begin = time.monotonic()
    p = rt("create", "-b", bundle.path, bundle.id)
    took = time.monotonic() - begin
    assert p.returncode == 1
    assert "timeout" in p.stderr
    assert took < 8
    assert pids_with(f"sleep\0{token}") == []
    assert rt.ids() == []


def test_a_container_namespace_hook_past_its_timeout_is_killed(rt, bundle):
    token = f"{uuid.uuid4().int % 10**6 + 10**6}"
    Recorder(bundle).add_raw("createContainer", {"path": BUSYBOX, "args": ["sleep", token],
                                                 "timeout": 1})
    p = rt("create", "-b", bundle.path, bundle.id)
    assert p.returncode == 1
    assert "timeout" in p.stderr
    time.sleep(0.2)
    assert pids_with(f"sleep\0{token}") == []
    assert rt.ids() == []


def test_a_hook_that_is_not_executable_fails_create(rt, bundle, tmp_path):
    script = tmp_path / "not-executable.sh"
    script.write_text("#!/bin/sh\nexit 0\n")
    script.chmod(0o644)
    Recorder(bundle).add_raw("createRuntime", {"path": str(script)})
    p = rt("create", "-b", bundle.path, bundle.id)
    assert p.returncode == 1
    assert "permission denied" in p.stderr.lower()
    assert rt.ids() == []


def test_a_missing_hook_fails_create(rt, bundle):
    Recorder(bundle).add_raw("createContainer", {"path": "/nonexistent/hook"})
    p = rt("create", "-b", bundle.path, bundle.id)
    assert p.returncode == 1
    assert "no such file or directory" in p.stderr.lower()
    assert rt.ids() == []


@pytest.mark.parametrize("kind", ("startContainer", "poststart"))
def test_a_failing_start_hook_fails_start_and_stops_the_container(rt, bundle, kind):
    rec = Recorder(bundle)
    rec.add(kind, code=5)
    rec.add("poststop")
    bundle.sh("touch /hooklog/program-ran; exec sleep 1000")
    rt("create", "-b", bundle.path, bundle.id, check=True)
    pid = rt.state(bundle.id)["pid"]
    p = rt("start", bundle.id)
    assert p.returncode == 1
    assert f"error running {kind} hook #0" in p.stderr
    assert rt.status(bundle.id) == "stopped"
    assert not os.path.exists(f"/proc/{pid}/cmdline") or open(f"/proc/{pid}/cmdline").read() == ""
    if kind == "startContainer":
        assert not os.path.exists(os.path.join(rec.dir, "program-ran"))
    rt("delete", bundle.id, check=True)
    assert rec.order() == [kind, "poststop"]
    assert leaks.cgroup_dirs(bundle.linux["cgroupsPath"]) == []


def test_run_with_a_failing_start_hook_leaves_nothing(rt, bundle):
    rec = Recorder(bundle)
    rec.add("startContainer", code=1)
    rec.add("poststop")
    bundle.args("/bin/sleep", "1000")
    p = rt("run", "-d", "-b", bundle.path, bundle.id)
    assert p.returncode == 1
    assert rt.ids() == []
    assert rec.order() == ["startContainer", "poststop"]


def test_a_failing_poststop_hook_is_a_warning_and_the_rest_run(rt, bundle):
    rec = Recorder(bundle)
    rec.add("poststop", "first", code=1)
    rec.add("poststop", "second")
    rt("run", "-d", "-b", bundle.path, bundle.id, check=True)
    rt.wait_status(bundle.id, "stopped")
    p = rt("delete", bundle.id)
    assert p.returncode == 0, p.stderr
    assert "error running poststop hook #0" in p.stderr
    assert rec.order() == ["first", "second"]
    assert rt.ids() == []
