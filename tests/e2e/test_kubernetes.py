"""Kubernetes through containerd's CRI plugin: the calls a kubelet makes for a
pod whose RuntimeClass has `handler: pyrunc`, made over the CRI socket
(containerd's own) with a small gRPC client. The pod's sandbox ("pause")
image is a local busybox sleeping forever, so nothing is pulled."""

from __future__ import annotations

import os
import uuid

import pytest

from tests.e2e.cgroups import our_units, proc_cgroup, systemctl
from tests.e2e.daemons import CRI_NAMESPACE, RUNTIME_NAME
from tests.e2e.env import binary, run, wait_for
from tests.e2e.images import BUSYBOX_REF

pytestmark = pytest.mark.e2e

SHIM_ROOT = f"/run/containerd/runc/{CRI_NAMESPACE}"


@pytest.fixture(scope="module")
def cri(containerd):
    pytest.importorskip("grpc", reason="grpcio not installed (run tests/e2e/setup.sh)")
    from tests.e2e.cri import CriClient

    client = CriClient(containerd.socket)
    yield client
    client.close()


def runtime_state(cid: str) -> dict:
    import json

    p = run([binary(), "--root", SHIM_ROOT, "state", cid])
    return json.loads(p.stdout) if p.returncode == 0 else {"status": f"error: {p.stderr.strip()}"}


def runtime_status(cid: str) -> str:
    """The container's status as the runtime under test itself reports it."""
    return runtime_state(cid)["status"]


def assert_in_pod_cgroup(cid: str, pod_parent: str, layout) -> None:
    """The container is in its pod's cgroup: with SystemdCgroup = true a scope
    `cri-containerd-<id>.scope` in the kubelet-style slice (cgroupsPath
    "kubepods-burstable-pod<uid>.slice:cri-containerd:<id>"), else <parent>/<id>."""
    from runtime.cgroups.systemd.unit import expand_slice

    group = proc_cgroup(runtime_state(cid)["pid"], "memory")
    if layout.systemd:
        assert group == f"{expand_slice(pod_parent)}/cri-containerd-{cid}.scope"
        assert f"cri-containerd-{cid}.scope" in our_units()
    else:
        assert group == f"{pod_parent}/{cid}"


def test_cri_plugin_has_the_runtime_handler(cri, runtime_binary):
    import json

    assert cri.version()["runtime_name"] == "containerd"
    config = json.loads(cri.status_info()["config"])
    handler = config["containerd"]["runtimes"][RUNTIME_NAME]
    assert handler["runtimeType"] == "io.containerd.runc.v2"
    assert handler["options"]["BinaryName"] == runtime_binary


@pytest.fixture(scope="module")
def kubepods_slices(e2e_cgroups):
    """With systemd the pods' slices nest in kubepods.slice, as the kubelet's:
    stopped after the module if the suite made it."""
    existed = e2e_cgroups.systemd and "kubepods.slice" in our_units("kubepods.slice")
    yield
    if e2e_cgroups.systemd and not existed:
        systemctl("stop", "kubepods.slice")


@pytest.fixture
def pod(cri, e2e_dir, e2e_cgroups, kubepods_slices):
    """A running pod sandbox with runtime handler `pyrunc`; stopped and removed
    after, and its slice stopped (the kubelet does that) with systemd."""
    from tests.e2e.cri import pod_config

    uid = uuid.uuid4().hex
    log_dir = os.path.join(e2e_dir, "pods", uid)
    os.makedirs(log_dir)
    parent = e2e_cgroups.pod_parent(uid[:8])
    config = pod_config(f"e2e-{uid[:8]}", uid, log_dir, parent)
    pod_id = cri.run_pod_sandbox(config, RUNTIME_NAME)
    yield pod_id, config, log_dir, parent
    cri.stop_pod_sandbox(pod_id)
    cri.remove_pod_sandbox(pod_id)
    if e2e_cgroups.systemd:
        systemctl("stop", parent)


def test_pod_with_container(cri, pod, e2e_cgroups):
    from tests.e2e.cri import (
        CONTAINER_EXITED,
        CONTAINER_RUNNING,
        SANDBOX_READY,
        container_config,
    )

    pod_id, sandbox_config, log_dir, parent = pod
    assert cri.pod_sandbox_state(pod_id) == SANDBOX_READY
    assert runtime_status(pod_id) == "running"  # the pause container, by the runtime under test
    assert_in_pod_cgroup(pod_id, parent, e2e_cgroups)

    config = container_config("app", BUSYBOX_REF,
                              ["sh", "-c", 'trap "exit 0" TERM; echo "hello $WHO"; '
                                           "while :; do sleep 1; done"],
                              "app.log", envs={"WHO": "kubelet"})
    cid = cri.create_container(pod_id, config, sandbox_config)
    try:
        cri.start_container(cid)
        assert cri.container_status(cid)["state"] == CONTAINER_RUNNING
        assert runtime_status(cid) == "running"
        assert_in_pod_cgroup(cid, parent, e2e_cgroups)

        log = os.path.join(log_dir, "app.log")
        wait_for(lambda: os.path.exists(log) and "hello kubelet" in open(log).read(), 20,
                 "the container's log line")

        code, out, _ = cri.exec_sync(cid, ["sh", "-c", "echo from-exec; exit 3"])
        assert (code, out) == (3, "from-exec\n")

        cri.stop_container(cid, timeout=10)
        status = cri.container_status(cid)
        assert status["state"] == CONTAINER_EXITED
        assert status["exit_code"] == 0
    finally:
        cri.remove_container(cid)
    assert runtime_status(cid).startswith("error")
    assert f"cri-containerd-{cid}.scope" not in our_units()
