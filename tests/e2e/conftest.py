"""Session fixtures for the client suite: one private containerd (for ctr,
Docker and the CRI plugin), one dockerd on top of it, one podman storage.

The suite is opt-in: it runs with `-m e2e`, PYRUNC_E2E=1, or when a path
under tests/e2e is named on the command line; a plain `pytest` deselects it."""

from __future__ import annotations

import os
import shutil
import tempfile

import pytest

from tests.e2e import images
from tests.e2e.cgroups import Layout, driver, our_units, systemd_is_init
from tests.e2e.clients import Ctr, Docker, Podman
from tests.e2e.daemons import (
    CRI_NAMESPACE,
    CTR_NAMESPACE,
    SHARED_RUN_DIR,
    Containerd,
    Dockerd,
    remove_shared_run_dirs,
)
from tests.e2e.env import (
    attempt,
    binary,
    checked,
    default_root,
    need,
    remove_tree,
    run,
    wait_for,
)

HERE = os.path.dirname(os.path.abspath(__file__))
RESOLV_CONF = "/etc/resolv.conf"


def _e2e_requested(config: pytest.Config) -> bool:
    if os.environ.get("PYRUNC_E2E") == "1" or "e2e" in (config.getoption("markexpr") or ""):
        return True
    return any(os.path.abspath(str(a).split("::")[0]).startswith(HERE) for a in config.args)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if _e2e_requested(config):
        return
    ours = [i for i in items if str(i.fspath).startswith(HERE + os.sep)]
    if ours:
        config.hook.pytest_deselected(items=ours)
        items[:] = [i for i in items if i not in ours]


@pytest.fixture(scope="session")
def e2e_dir():
    # Short and outside pytest's tmp tree: sockets have a 108-byte path limit.
    path = tempfile.mkdtemp(prefix="pyrunc-e2e-", dir="/tmp")
    yield path
    remove_tree(path)


@pytest.fixture(scope="session")
def e2e_cgroups(cgroup_parent) -> Layout:
    """The suite's cgroup driver and parents (tests/e2e/cgroups.py); torn down
    after every daemon and client fixture (they depend on it), killing what a
    stuck client left running (with systemd: stopping the session's slice)."""
    layout = Layout(driver(), cgroup_parent)
    if layout.systemd and not systemd_is_init():
        pytest.skip("PYRUNC_E2E_CGROUP_DRIVER=systemd needs systemd as PID 1 (tests/guest)")
    yield layout
    layout.cleanup()


@pytest.fixture(autouse=True)
def no_unit_left():
    """Where systemd runs: every scope (and pyrunc unit but the session's
    slices) a test made is gone after it, whichever driver the clients use
    (with cgroupfs none is made).
    A conmon's scope goes when conmon exits, just after the container."""
    if not systemd_is_init():
        yield
        return
    def units() -> set[str]:
        # The session's slices stay until its end, as runc leaves a slice.
        return our_units("*.scope") | {u for u in our_units("pyrunc*")
                                       if not u.endswith(".slice")}

    before = units()

    def left() -> set[str]:
        return units() - before
    yield
    try:
        wait_for(lambda: not left(), 10, "the test's scopes to go")
    except AssertionError:
        pytest.fail(f"units left after the test: {sorted(left())}", pytrace=False)


@pytest.fixture(scope="session")
def runtime_binary() -> str:
    path = binary()
    if not os.access(path, os.X_OK):
        pytest.skip(f"runtime under test {path} missing (run tests/setup.sh)")
    return path


@pytest.fixture(scope="session")
def containerd(e2e_dir, runtime_binary, e2e_cgroups):
    need("containerd", "ctr", "containerd-shim-runc-v2")
    shared_run_dir_existed = os.path.exists(SHARED_RUN_DIR)
    # The CRI plugin copies the host's resolv.conf into every pod; a host
    # without a network (the guest) may have none: an empty one, for the session.
    made_resolv_conf = not os.path.lexists(RESOLV_CONF)
    if made_resolv_conf:
        open(RESOLV_CONF, "w").close()
    daemon = Containerd(os.path.join(e2e_dir, "containerd"), runtime_binary, images.PAUSE_REF,
                        systemd_cgroup=e2e_cgroups.systemd)
    try:
        daemon.start()
        archive = images.oci_archive(e2e_dir, {
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


@pytest.fixture(scope="session")
def ctr(containerd, runtime_binary, e2e_cgroups) -> Ctr:
    return Ctr(containerd, runtime_binary, e2e_cgroups)


@pytest.fixture(scope="session")
def docker(e2e_dir, containerd, runtime_binary, e2e_cgroups):
    need("dockerd", "/usr/bin/docker")
    daemon = Dockerd(os.path.join(e2e_dir, "docker"), containerd.socket, runtime_binary,
                     e2e_cgroups.parent("docker"), e2e_cgroups.driver)
    try:
        daemon.start()
        client = Docker(daemon)
        client.ok("import", "--change", 'CMD ["/bin/sh"]', images.rootfs_tar(e2e_dir),
                  images.BUSYBOX_REF)
        yield client
    finally:
        daemon.stop()


# podman writes these whatever its configuration says (its blob-info cache and
# netavark's run directory); the runtime's default root is where podman's
# containers keep their state. Removed after the session if it created them.
PODMAN_FIXED_DIRS = ("/var/lib/containers", "/run/containers")


@pytest.fixture(scope="session")
def podman(e2e_dir, runtime_binary, e2e_cgroups):
    need("podman", "conmon")
    fixed_new = [d for d in PODMAN_FIXED_DIRS if not os.path.exists(d)]
    runtime_root = default_root()
    root_new = not os.path.exists(runtime_root)
    client = Podman(os.path.join(e2e_dir, "podman"), runtime_binary, e2e_cgroups.parent("podman"),
                    e2e_cgroups.driver)
    try:
        client.ok("import", "--change", 'CMD ["/bin/sh"]', images.rootfs_tar(e2e_dir),
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


@pytest.fixture
def bind_dir(tmp_path):
    d = tmp_path / "bind"
    d.mkdir()
    yield str(d)
    shutil.rmtree(d, ignore_errors=True)
