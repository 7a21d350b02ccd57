"""Capabilities across the two execs of the exec trampoline, compared with runc 1.1.5
(one execve, no trampoline) on the same bundle: every set the program ends up
with must be the same.

Root's sets are recomputed from bounding and inheritable at each execve, and a
non-root process keeps its ambient set, so two execs equal one.  The exception
is a non-root process under no_new_privs running a program with file
capabilities beyond its ambient set: the trampoline's execve would drop them,
so that program is executed directly (test_file_capabilities_under_nnp fails
when the trampoline is used for it).
"""

from __future__ import annotations

import os
import struct

import pytest

from runtime.native import lib
from tests.support.runtime import RUNC, Runtime, is_pyrunc

pytestmark = pytest.mark.skipif(not is_pyrunc(), reason="compares pyrunc with runc")


NET_BIND = "CAP_NET_BIND_SERVICE"
CHOWN = "CAP_CHOWN"
_VFS_CAP_REVISION_2 = 0x02000000
_VFS_CAP_FLAGS_EFFECTIVE = 0x000001


@pytest.fixture
def runc(tmp_path):
    if not os.access(RUNC, os.X_OK):
        pytest.skip(f"{RUNC} is needed to compare with")
    r = Runtime(str(tmp_path / "runc-root"), RUNC)
    yield r
    r.cleanup()


def _caps_lines(rt, bundle, argv: list[str]) -> list[str]:
    bundle.args(*argv)
    p = rt("run", "-b", bundle.path, f"{bundle.id}-{os.path.basename(rt.path)}")
    assert p.returncode == 0, f"{rt.path}: {p.stderr.strip()}"
    return [line for line in p.stdout.splitlines() if line.startswith("Cap")]


def _same_as_runc(rt, runc, bundle, argv=("/bin/grep", "Cap", "/proc/self/status")) -> list[str]:
    ours = _caps_lines(rt, bundle, list(argv))
    theirs = _caps_lines(runc, bundle, list(argv))
    assert ours == theirs
    assert len(ours) == 5
    return ours


def _caps(bundle, *, uid: int = 0, nnp: bool = False, **sets: list[str]) -> None:
    bundle.process["user"] = {"uid": uid, "gid": uid}
    bundle.process["noNewPrivileges"] = nnp
    bundle.process["capabilities"] = {k: sets.get(k, []) for k in
                                      ("bounding", "effective", "permitted", "inheritable",
                                       "ambient")}


def _mask(*names: str) -> int:
    return sum(1 << getattr(lib, n) for n in names)


def _field(lines: list[str], name: str) -> int:
    return int(next(line.split()[1] for line in lines if line.startswith(name)), 16)


def test_root_with_the_default_set(rt, runc, bundle):
    _same_as_runc(rt, runc, bundle)


@pytest.mark.parametrize("nnp", [False, True])
def test_root_with_an_inheritable_set(rt, runc, bundle, nnp):
    _caps(bundle, nnp=nnp, bounding=[NET_BIND, CHOWN], permitted=[NET_BIND],
          effective=[NET_BIND], inheritable=[CHOWN])
    lines = _same_as_runc(rt, runc, bundle)
    assert _field(lines, "CapBnd") == _mask(NET_BIND, CHOWN)


@pytest.mark.parametrize("nnp", [False, True])
def test_non_root_keeps_its_ambient_set(rt, runc, bundle, nnp):
    every = [NET_BIND, CHOWN]
    _caps(bundle, uid=1000, nnp=nnp, bounding=every, permitted=every, effective=every,
          inheritable=every, ambient=every)
    lines = _same_as_runc(rt, runc, bundle)
    assert _field(lines, "CapAmb") == _field(lines, "CapEff") == _mask(NET_BIND, CHOWN)


def test_non_root_without_ambient_loses_permitted(rt, runc, bundle):
    _caps(bundle, uid=1000, bounding=[NET_BIND], permitted=[NET_BIND], effective=[NET_BIND])
    lines = _same_as_runc(rt, runc, bundle)
    assert _field(lines, "CapPrm") == 0


def _file_caps_busybox(bundle) -> str:
    """A copy of busybox carrying cap_net_bind_service=ep (busybox-* runs argv[1])."""
    rootfs = bundle.own_rootfs()
    path = os.path.join(rootfs, "bin", "busybox-caps")
    with open(os.path.join(rootfs, "bin", "busybox"), "rb") as src, open(path, "wb") as dst:
        dst.write(src.read())
    os.chmod(path, 0o755)
    bit = _mask(NET_BIND)
    os.setxattr(path, "security.capability",
                struct.pack("<5I", _VFS_CAP_REVISION_2 | _VFS_CAP_FLAGS_EFFECTIVE,
                            bit & 0xFFFFFFFF, 0, bit >> 32, 0))
    return "/bin/busybox-caps"


@pytest.mark.parametrize("nnp", [True, False], ids=["no_new_privs", "privileges"])
def test_file_capabilities(rt, runc, bundle, nnp):
    program = _file_caps_busybox(bundle)
    _caps(bundle, uid=1000, nnp=nnp, bounding=[NET_BIND], permitted=[NET_BIND],
          effective=[NET_BIND])
    lines = _same_as_runc(rt, runc, bundle, (program, "grep", "Cap", "/proc/self/status"))
    assert _field(lines, "CapPrm") == _mask(NET_BIND)
