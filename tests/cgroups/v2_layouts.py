"""Run a runtime as if the host had another cgroup layout, without changing the host.

Each command runs in its own private mount namespace (``unshare -m``, private
propagation) whose cgroup mounts are changed before the runtime starts:

* ``pure-v2``: this host's cgroup2 mount is bound over /sys/fs/cgroup, so the
  runtime sees a unified-only host (runc decides by statfs of /sys/fs/cgroup,
  pyrunc by mountinfo; both see cgroup2 there).  The v1 hierarchies are still
  mounted for everybody else.  Controllers held by v1 are missing from
  cgroup2, so only what needs none of them works: cgroup.freeze, and device
  programs (which need no controller).
* ``hybrid-no-devices``: the v1 devices hierarchy is unmounted in the
  namespace only, so the runtime sees a hybrid host without it and has to
  filter devices on the cgroup2 side.

Every command of one container must run in the same kind of layout (the
saved paths are those the runtime saw).  The cgroup2 tree is the host's, so
the container's cgroup is /sys/fs/cgroup/unified/<cgroupsPath> seen from here.
"""

from __future__ import annotations

import os
import subprocess
import tempfile

from cg_testlib import Pyrunc, pyrunc_command

from runtime.cgroups import mounts

UNIFIED = mounts.HYBRID_UNIFIED
_SETUP = {
    "pure-v2": f"mount --bind {UNIFIED} /sys/fs/cgroup",
    "hybrid-no-devices": "umount /sys/fs/cgroup/devices",
}


def layout_prefix(layout: str) -> list[str]:
    return ["unshare", "-m", "--propagation", "private", "sh", "-c",
            f'{_SETUP[layout]} && exec "$@"', layout]


def host_supports(layout: str) -> str:
    """"" if the layout can be made here, else why not."""
    h = mounts.hierarchies()
    if h.unified is None or h.unified.mountpoint != UNIFIED:
        return f"needs a hybrid host with cgroup2 at {UNIFIED}"
    if layout == "hybrid-no-devices" and "devices" not in h.v1:
        return "no v1 devices hierarchy to hide"
    return ""


class LayoutRuntime(Pyrunc):
    """The runtime under test (pyrunc or $PYRUNC_TEST_RUNTIME) in a changed layout."""

    def __init__(self, root: str, layout: str) -> None:
        super().__init__(root)
        self.prefix = layout_prefix(layout)

    def command(self, *args: str) -> list[str]:
        return self.prefix + pyrunc_command() + ["--root", self.root, *args]

    def __call__(self, *args: str, input: str | None = None,
                 timeout: float = 60) -> subprocess.CompletedProcess:
        return subprocess.run(self.command(*args), capture_output=True, text=True,
                              input=input, timeout=timeout)

    def run_detached(self, cid: str, bundle: str) -> None:
        with tempfile.TemporaryFile() as err:
            rc = subprocess.run(self.command("run", "-d", "--bundle", bundle, cid),
                                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=err, timeout=60).returncode
            err.seek(0)
            assert rc == 0, err.read().decode()


def host_cgroup2_dir(pid: int) -> str:
    """The cgroup2 directory of ``pid`` as seen from the host."""
    with open(f"/proc/{pid}/cgroup") as f:
        for line in f:
            if line.startswith("0::"):
                return os.path.join(UNIFIED, line[3:].strip().lstrip("/"))
    raise AssertionError(f"process {pid} has no cgroup2 entry")


def drop_runc_parents(rel: str) -> None:
    """runc leaves the parent directories of a cgroupsPath behind; remove them if empty."""
    if not os.environ.get("PYRUNC_TEST_RUNTIME"):
        return
    from cg_testlib import hierarchy_roots

    for root in hierarchy_roots():
        try:
            os.rmdir(os.path.join(root, rel.lstrip("/")))
        except OSError:
            pass   # absent, or not empty: the leftover check reports it
