"""The --systemd-cgroup boundary, and what importing the package costs."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from runtime.cgroups import CgroupError, for_container

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_systemd_path_format_is_checked_first():
    with pytest.raises(CgroupError, match='expected cgroupsPath to be of format '
                                          '"slice:prefix:name" for systemd cgroups, '
                                          'got "/a/b" instead'):
        for_container("c", "/a/b", systemd=True)


@pytest.mark.skipif(os.path.isdir("/run/systemd/system"), reason="systemd runs on this host")
@pytest.mark.parametrize("path", [None, "system.slice:pyrunc:c"])
def test_systemd_driver_without_systemd_gives_runc_error(path):
    with pytest.raises(CgroupError, match="^systemd not running on this host, cannot use "
                                          "systemd cgroups manager$"):
        for_container("c", path, systemd=True)


HEAVY = {"json", "dataclasses", "typing", "logging", "re", "copy", "importlib.util"}


def new_modules(code: str) -> list[str]:
    """Modules that ``code`` imports beyond what the bare interpreter already has."""
    probe = ("import sys\nbefore = set(sys.modules)\n" + code +
             "\nprint(' '.join(sorted(set(sys.modules) - before)))\n")
    out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True,
                         text=True, check=True).stdout
    return out.split()


def test_importing_the_package_is_cheap():
    new = new_modules("import runtime.cgroups")
    assert [m for m in new if m.startswith("runtime.cgroups")] == ["runtime.cgroups"]
    assert not HEAVY & set(new)


def test_a_manager_imports_only_the_controllers_it_uses():
    # Stats of a manager with only a pids path: only the pids module is loaded.
    new = new_modules("from runtime.cgroups.v1.manager import V1Manager\n"
                      "V1Manager({'pids': '/nonexistent'}).stats()")
    controllers = sorted(m for m in new if m.startswith("runtime.cgroups.v"))
    assert controllers == ["runtime.cgroups.v1", "runtime.cgroups.v1.manager",
                           "runtime.cgroups.v1.pids"]
    assert not HEAVY & set(new)


@pytest.mark.parametrize("driver", ["runtime.cgroups.v1.manager", "runtime.cgroups.v2.manager"])
def test_drivers_do_not_import_the_factory(driver):
    # The factory imports the drivers; a driver importing it back was a cycle.
    assert "runtime.cgroups.manager" not in new_modules(f"import {driver}")


def test_cgroupfs_path_imports_nothing_of_systemd():
    # --systemd-cgroup's D-Bus client (jeepney, ~20 ms) stays off the cgroupfs path.
    new = new_modules("from runtime.cgroups import for_container, from_state\n"
                      "m = for_container('c', '/pyrunc-import-probe')\n"
                      "from_state(m.to_state())")
    assert not [m for m in new if m.startswith(("jeepney", "runtime.cgroups.systemd"))]
    assert not HEAVY & set(new)
