"""The clients' sessions as context managers: a private containerd with the
suite's images, a dockerd on top of it, a podman storage; each torn down with
what it leaves on the host.  The test fixtures (conftest.py) and the client
bench (tests/bench/clients.py) both use them."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager

from tests.e2e import images
from tests.e2e.cgroups import Layout
from tests.e2e.clients import Docker, Podman
from tests.e2e.daemons import (
    CRI_NAMESPACE,
    CTR_NAMESPACE,
    SHARED_RUN_DIR,
    Containerd,
    Dockerd,
    remove_shared_run_dirs,
)
from tests.e2e.env import attempt, checked, default_root, run

RESOLV_CONF = "/etc/resolv.conf"
# podman writes these whatever its configuration says (its blob-info cache and
# netavark's run directory); the runtime's default root is where podman's
# containers keep their state. Removed after the session if it created them.
PODMAN_FIXED_DIRS = ("/var/lib/containers", "/run/containers")


@contextmanager
def containerd_session(workdir: str, runtime_binary: str, layout: Layout) -> Iterator[Containerd]:
    shared_run_dir_existed = os.path.exists(SHARED_RUN_DIR)
    # The CRI plugin copies the host's resolv.conf into every pod; a host
    # without a network (the guest) may have none: an empty one, for the session.
    made_resolv_conf = not os.path.lexists(RESOLV_CONF)
    if made_resolv_conf:
        open(RESOLV_CONF, "w").close()
    daemon = Containerd(os.path.join(workdir, "containerd"), runtime_binary, images.PAUSE_REF,
                        systemd_cgroup=layout.systemd)
    try:
        daemon.start()
        archive = images.oci_archive(workdir, {
            images.BUSYBOX_REF: ["/bin/sh"],
            images.PAUSE_REF: ["/bin/sleep", "2147483647"],
        })
        for ns in (CTR_NAMESPACE, CRI_NAMESPACE):
            checked(run(daemon.ctr("images", "import", archive, namespace=ns)))
        yield daemon
    finally:
        daemon.stop()
        remove_shared_run_dirs(shared_run_dir_existed)
        if made_resolv_conf:
            os.unlink(RESOLV_CONF)


@contextmanager
def docker_session(workdir: str, containerd: Containerd, runtime_binary: str, layout: Layout,
                   more_runtimes: dict[str, str] | None = None) -> Iterator[Docker]:
    """dockerd with the runtime under test as `pyrunc` (and more_runtimes, name: path)."""
    daemon = Dockerd(os.path.join(workdir, "docker"), containerd.socket, runtime_binary,
                     layout.parent("docker"), layout.driver)
    for name, path in (more_runtimes or {}).items():
        daemon.config["runtimes"][name] = {"path": path}
    try:
        daemon.start()
        client = Docker(daemon)
        client.ok("import", "--change", 'CMD ["/bin/sh"]', images.rootfs_tar(workdir),
                  images.BUSYBOX_REF)
        yield client
    finally:
        daemon.stop()


@contextmanager
def podman_session(workdir: str, runtime_binary: str, layout: Layout) -> Iterator[Podman]:
    fixed_new = [d for d in PODMAN_FIXED_DIRS if not os.path.exists(d)]
    runtime_root = default_root()
    root_new = not os.path.exists(runtime_root)
    client = Podman(os.path.join(workdir, "podman"), runtime_binary, layout.parent("podman"),
                    layout.driver)
    try:
        client.ok("import", "--change", 'CMD ["/bin/sh"]', images.rootfs_tar(workdir),
                  images.BUSYBOX_REF)
        yield client
    finally:
        client.cleanup()
        attempt(client.argv("system", "prune", "-af"), env=client.env, timeout=120)
        for d in fixed_new:
            shutil.rmtree(d, ignore_errors=True)
        if root_new:
            try:
                os.rmdir(runtime_root)
            except OSError:
                pass
