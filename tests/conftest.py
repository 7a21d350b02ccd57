"""Fixtures shared by every test directory (one autouse: the cgroup2 root as found)."""

from __future__ import annotations

import os
import sys
import uuid

import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from tests.support.install import installed_first, reinstall_if_stale  # noqa: E402

# The tests run the installed pyrunc, never an older one, and import its packages
# (runtime, spec, conformance) from that install too: its C extension is built there.
reinstall_if_stale()
installed_first()

from tests.support import leaks, rootless  # noqa: E402
from tests.support.bundle import Bundle, shared_rootfs  # noqa: E402
from tests.support.runtime import Runtime, under_test_and_runc  # noqa: E402


@pytest.fixture(scope="session")
def session_dir(tmp_path_factory) -> str:
    path = str(tmp_path_factory.mktemp("pyrunc"))
    if rootless.active():
        rootless.reachable(path)
    return path


if rootless.active():
    # Sockets the tests listen on (console, pidfd, seccomp agent) must be the user's
    # to connect to: a socket's mode comes from the umask.
    os.umask(0)


@pytest.fixture(autouse=True)
def rootless_lane(request):
    """In the rootless lane (PYRUNC_TEST_AS_USER): skip what needs root, and give each
    test's tmp_path to the user, who runs the runtimes there."""
    if not rootless.active():
        return
    from tests.rootless.not_rootless import reason

    mark = request.node.get_closest_marker("needs_root")
    why = (mark.args[0] if mark.args else mark.kwargs.get("reason")) if mark else None
    why = why or reason(request.node.nodeid)
    if why:
        pytest.skip(f"needs root: {why}")
    rootless.give(str(request.getfixturevalue("tmp_path")))


@pytest.fixture(scope="session")
def rootfs(session_dir) -> str:
    return shared_rootfs(session_dir)


@pytest.fixture(scope="session")
def cgroup_parent():
    parent = f"/pyrunc-test-{os.getpid()}"
    yield parent
    leaks.remove_cgroup_tree(parent)


@pytest.fixture(scope="session", autouse=True)
def cgroup2_root_as_found():
    """The one autouse fixture: the cgroup2 root is the host's, and runtimes enable
    controllers up to it on demand (hugetlb limits on this hybrid host); whatever the
    run enabled there is disabled again at the end."""
    from conformance import cgroupfs

    before = cgroupfs.root_subtree()
    yield
    cgroupfs.restore_root_subtree(before)


@pytest.fixture
def rt(tmp_path, cgroup_parent):
    """The runtime under test with a private --root; containers are force-deleted after."""
    r = Runtime(str(tmp_path / "root"))
    yield r
    r.cleanup()


@pytest.fixture(params=under_test_and_runc(), ids=os.path.basename)
def any_rt(request, tmp_path):
    """The runtime under test, then runc, each with a private --root (same behaviour)."""
    r = Runtime(str(tmp_path / "root"), request.param)
    yield r
    r.cleanup()


@pytest.fixture
def make_bundle(tmp_path, rootfs, cgroup_parent):
    """make_bundle(name="c") -> Bundle with a unique container id and its own cgroup."""
    def make(name: str = "c") -> Bundle:
        cid = f"{name}-{uuid.uuid4().hex[:8]}"
        return Bundle(str(tmp_path / cid), rootfs, cgroup_parent, cid)

    return make


@pytest.fixture
def bundle(make_bundle) -> Bundle:
    return make_bundle()


def _guest_requested(config: pytest.Config) -> bool:
    return os.environ.get("PYRUNC_IN_GUEST") == "1" or "guest" in (
        config.getoption("markexpr") or "")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked `guest` need a systemd + cgroup v2 host: they run inside the guest
    (tests/guest/run.sh sets PYRUNC_IN_GUEST=1) or with `-m guest`; elsewhere they
    are deselected, not skipped."""
    if _guest_requested(config):
        return
    guest = [i for i in items if i.get_closest_marker("guest")]
    if guest:
        config.hook.pytest_deselected(items=guest)
        items[:] = [i for i in items if not i.get_closest_marker("guest")]
