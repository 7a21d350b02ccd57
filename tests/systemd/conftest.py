"""--systemd-cgroup against a real systemd: the Debian guest (tests/guest/run.sh).

Every test here carries the ``guest`` marker; on a host without systemd they
are skipped with that reason (the host run deselects them anyway)."""

from __future__ import annotations

import os
import subprocess
import uuid

import pytest

from tests.support.bundle import Bundle
from tests.support.runtime import Runtime, under_test_and_runc

SYSTEMD = os.path.isdir("/run/systemd/system")


def pytest_collection_modifyitems(items):
    here = os.path.dirname(__file__)
    for item in items:
        if str(item.fspath).startswith(here):
            item.add_marker(pytest.mark.guest)
            if not SYSTEMD:
                item.add_marker(pytest.mark.skip(
                    reason="needs systemd as PID 1: run in the guest (tests/guest/run.sh)"))


class SystemdRuntime(Runtime):
    """A runtime called with --systemd-cgroup, as Docker, CRI and podman do."""

    def cmd(self, *args: str) -> list[str]:
        return [self.path, "--systemd-cgroup", "--root", self.root, *args]

    def __call__(self, *args: str, timeout: float = 180, **kw):
        # The guest is emulated (TCG) on a shared machine: a create can take 30 s.
        return super().__call__(*args, timeout=timeout, **kw)


def systemctl(*args: str, check: bool = True) -> str:
    p = subprocess.run(["systemctl", *args], capture_output=True, text=True, timeout=60)
    if check and p.returncode != 0:
        raise AssertionError(f"systemctl {' '.join(args)}: {p.stderr.strip()}")
    return p.stdout


def show(unit: str, *props: str) -> dict[str, str]:
    out = systemctl("show", unit, "-p", ",".join(props))
    return dict(line.split("=", 1) for line in out.splitlines() if "=" in line)


def our_units() -> list[str]:
    """What `systemctl list-units --all 'pyrunc*' '*.scope'` lists of the tests' units."""
    out = systemctl("list-units", "--all", "--plain", "--no-legend", "pyrunc*", "*.scope")
    names = [line.split()[0] for line in out.splitlines() if line.strip()]
    return [n for n in names if "sdtest" in n]


def unified() -> bool:
    return os.path.exists("/sys/fs/cgroup/cgroup.controllers")


@pytest.fixture(params=under_test_and_runc(), ids=os.path.basename)
def sd_rt(request, tmp_path):
    r = SystemdRuntime(str(tmp_path / "root"), request.param)
    yield r
    r.cleanup()
    left = our_units()
    for unit in left:
        systemctl("stop", unit, check=False)
        systemctl("reset-failed", unit, check=False)
    assert not left, f"units left behind: {left}"


@pytest.fixture
def sd_bundle(tmp_path, rootfs):
    """A bundle whose cgroupsPath names a scope "sdtest-<id>.scope" in system.slice."""
    cid = f"c-{uuid.uuid4().hex[:8]}"
    b = Bundle(str(tmp_path / cid), rootfs, "", cid)
    b.linux["cgroupsPath"] = f"system.slice:sdtest:{cid}"
    b.unit = f"sdtest-{cid}.scope"
    return b.save()
