"""Checkpoint and restore through clients, with pyrunc as their runtime: podman
(`podman container checkpoint/restore`, through conmon) and containerd (`ctr`
checkpoint of a task to an image, and a live restore from it).  Needs a working
criu: the guest (tests/guest/run.sh)."""

from __future__ import annotations

import time
import uuid

import pytest

from tests.criu.crlib import criu_problem
from tests.e2e.env import wait_for
from tests.e2e.images import BUSYBOX_REF as IMG

pytestmark = [pytest.mark.e2e, pytest.mark.guest]

COUNT_TO_FILE = "i=0; while :; do i=$((i+1)); echo $i; echo $i > /count; sleep 0.2; done"


@pytest.fixture(scope="module", autouse=True)
def working_criu():
    problem = criu_problem()
    if problem:
        pytest.skip(problem)


def _numbers(text: str) -> list[int]:
    return [int(x) for x in text.split() if x.isdigit()]


def test_podman_checkpoint_and_restore(podman):
    name = f"e2e-cr-{uuid.uuid4().hex[:8]}"
    try:
        podman.ok(*podman.run_argv("-d", "--name", name, IMG, "sh", "-c", COUNT_TO_FILE))
        wait_for(lambda: len(_numbers(podman("logs", name).stdout)) >= 3, 60, "a count")
        r = podman("container", "checkpoint", name, timeout=300)
        assert r.returncode == 0, r.stderr
        assert podman.inspect(name, "{{.State.Status}}") == "exited"
        last = _numbers(podman("logs", name).stdout)[-1]
        time.sleep(1)
        assert _numbers(podman("logs", name).stdout)[-1] == last
        r = podman("container", "restore", name, timeout=300)
        assert r.returncode == 0, r.stderr
        assert podman.inspect(name, "{{.State.Status}}") == "running"
        wait_for(lambda: _numbers(podman("logs", name).stdout)[-1] > last + 2, 60,
                 "the count going on")
        numbers = _numbers(podman("logs", name).stdout)
        assert numbers == list(range(1, len(numbers) + 1)), numbers  # nothing lost or redone
        # exec works in the restored container (the file is rewritten 5 times a second:
        # a read may find it just truncated)
        wait_for(lambda: podman.ok("exec", name, "cat", "/count").stdout.strip().isdigit(), 30,
                 "exec reading the count")
    finally:
        podman.attempt("rm", "-f", "-t", "0", name)


def test_containerd_task_checkpoint_and_live_restore(ctr):
    cid = f"e2e-cr-{uuid.uuid4().hex[:8]}"
    ref = f"localhost/checkpoint/{cid}:1"
    try:
        ctr.ok(*ctr.run_argv(cid, "-d", IMG, cid, "sh", "-c", COUNT_TO_FILE))

        def count() -> int:
            r = ctr("tasks", "exec", "--exec-id", f"x{uuid.uuid4().hex[:6]}", cid,
                    "cat", "/count")
            return int(r.stdout.strip() or 0) if r.returncode == 0 else 0

        wait_for(lambda: count() >= 3, 60, "a count")
        # Read before the checkpoint: the task goes on counting after the dump,
        # for seconds under TCG, so a count read after it may be ahead of the image.
        before_checkpoint = count()
        r = ctr("containers", "checkpoint", "--task", "--rw", cid, ref, timeout=300)
        assert r.returncode == 0, r.stderr
        ctr.ok("tasks", "kill", "-s", "KILL", cid)
        wait_for(lambda: ctr.task_status(cid) == "STOPPED", 30, "the task stopped")
        ctr.ok("tasks", "delete", cid)
        ctr.ok("containers", "delete", cid)
        r = ctr("containers", "restore", "--live", "--rw", cid, ref, timeout=300)
        assert r.returncode == 0, r.stderr
        wait_for(lambda: ctr.task_status(cid) == "RUNNING", 60, "the restored task running")
        restored = count()
        assert restored >= before_checkpoint
        wait_for(lambda: count() > restored + 2, 60, "the count going on")
    finally:
        ctr.attempt("tasks", "delete", "--force", cid)
        ctr.attempt("containers", "delete", cid)
        ctr.attempt("images", "remove", ref)
