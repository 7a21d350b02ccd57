"""Session fixtures for the client suite: one private containerd (for ctr,
Docker and the CRI plugin), one dockerd on top of it, one podman storage.

The suite is opt-in: it runs with `-m e2e`, PYRUNC_E2E=1, or when a path
under tests/e2e is named on the command line; a plain `pytest` deselects it."""

from __future__ import annotations

import os
import shutil
import tempfile

import pytest

from tests.e2e.cgroups import Layout, driver, our_units, systemd_is_init
from tests.e2e.clients import Ctr
from tests.e2e.env import binary, need, remove_tree, wait_for
from tests.e2e.sessions import containerd_session, docker_session, podman_session

HERE = os.path.dirname(os.path.abspath(__file__))


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
    with containerd_session(e2e_dir, runtime_binary, e2e_cgroups) as daemon:
        yield daemon


@pytest.fixture(scope="session")
def ctr(containerd, runtime_binary, e2e_cgroups) -> Ctr:
    return Ctr(containerd, runtime_binary, e2e_cgroups)


@pytest.fixture(scope="session")
def docker(e2e_dir, containerd, runtime_binary, e2e_cgroups):
    need("dockerd", "/usr/bin/docker")
    with docker_session(e2e_dir, containerd, runtime_binary, e2e_cgroups) as client:
        yield client


@pytest.fixture(scope="session")
def podman(e2e_dir, runtime_binary, e2e_cgroups):
    need("podman", "conmon")
    with podman_session(e2e_dir, runtime_binary, e2e_cgroups) as client:
        yield client


@pytest.fixture
def bind_dir(tmp_path):
    d = tmp_path / "bind"
    d.mkdir()
    yield str(d)
    shutil.rmtree(d, ignore_errors=True)
