"""The container's session keyring, side by side with runc 1.1.5 on the same bundle.

runc gives every container a new session keyring, `_ses.<id>`, which its exec'd
processes join too, unless `--no-new-keyring`.  To tell which keyring a process
has, the runtime is started in a session keyring of the test's own whose
permissions let only its possessors view it: /proc/keys in the container lists
it only if the container kept the caller's session keyring.
"""

from __future__ import annotations

import ctypes
import os
import shutil
import tempfile
import uuid

import pytest

from runtime.native import lib
from tests.support.runtime import RUNC, Runtime

POSSESSOR_ALL = 0x3F000000  # possessor: view, read, write, search, link, setattr; others none
_libc = ctypes.CDLL(None, use_errno=True)


def _in_session_keyring(name: str):
    """preexec_fn: the runtime starts in a new session keyring `name`, viewable by
    its possessors only."""
    def join() -> None:
        serial = _libc.syscall(lib.SYS_keyctl, lib.KEYCTL_JOIN_SESSION_KEYRING, name.encode())
        if serial < 0 or _libc.syscall(lib.SYS_keyctl, lib.KEYCTL_SETPERM, serial,
                                       POSSESSOR_ALL) < 0:
            os._exit(99)
    return join


@pytest.fixture
def keys_bundle(bundle):
    bundle.linux["maskedPaths"] = [p for p in bundle.linux["maskedPaths"] if p != "/proc/keys"]
    bundle.save()
    return bundle


def _keyring_line(keys: str, description: str) -> str | None:
    for line in keys.splitlines():
        fields = line.split()
        if len(fields) >= 9 and fields[7] == "keyring" and fields[8] == f"{description}:":
            return line
    return None


def _run_keys(rt, bundle, *flags: str) -> tuple[str, str]:
    """`cat /proc/keys` in a container run by a runtime in its own session keyring."""
    caller = f"pyrunc-test-{uuid.uuid4().hex[:8]}"
    bundle.args("/bin/cat", "/proc/keys")
    p = rt("run", *flags, "-b", bundle.path, bundle.id, preexec_fn=_in_session_keyring(caller))
    assert p.returncode == 0, p.stderr
    return p.stdout, caller


def test_container_gets_a_session_keyring_of_its_own(any_rt, keys_bundle):
    keys, caller = _run_keys(any_rt, keys_bundle)
    assert _keyring_line(keys, caller) is None, "the caller's session keyring leaked in"
    ours = _keyring_line(keys, f"_ses.{keys_bundle.id}")
    assert ours is not None, keys
    # Searchable by its uid (so that exec'd processes can join it), as runc sets it.
    assert int(ours.split()[4], 16) & 0x00080000


def test_no_new_keyring_keeps_the_callers(any_rt, keys_bundle):
    keys, caller = _run_keys(any_rt, keys_bundle, "--no-new-keyring")
    assert _keyring_line(keys, caller) is not None, keys
    assert _keyring_line(keys, f"_ses.{keys_bundle.id}") is None


def test_keyring_permissions_as_runc(rt, make_bundle, tmp_path):
    if not os.access(RUNC, os.X_OK):
        pytest.skip(f"{RUNC} is needed to compare with")
    perms = []
    for path in (rt.path, RUNC):
        b = make_bundle("keys")
        b.linux["maskedPaths"] = [p for p in b.linux["maskedPaths"] if p != "/proc/keys"]
        other = Runtime(str(tmp_path / f"root-{len(perms)}"), path)
        try:
            keys, _ = _run_keys(other, b)
        finally:
            other.cleanup()
        line = _keyring_line(keys, f"_ses.{b.id}")
        assert line is not None, keys
        perms.append(line.split()[4])
    assert perms[0] == perms[1]


@pytest.mark.parametrize("no_new_keyring", [False, True], ids=["new", "no-new-keyring"])
def test_exec_joins_the_containers_keyring(any_rt, keys_bundle, no_new_keyring):
    flags = ["--no-new-keyring"] if no_new_keyring else []
    keys_bundle.args("/bin/sleep", "100")
    p = any_rt("run", "-d", *flags, "-b", keys_bundle.path, keys_bundle.id,
               preexec_fn=_in_session_keyring(f"pyrunc-test-{uuid.uuid4().hex[:8]}"))
    assert p.returncode == 0, p.stderr
    caller = f"pyrunc-test-exec-{uuid.uuid4().hex[:8]}"
    p = any_rt("exec", keys_bundle.id, "cat", "/proc/keys",
               preexec_fn=_in_session_keyring(caller))
    assert p.returncode == 0, p.stderr
    ours = _keyring_line(p.stdout, f"_ses.{keys_bundle.id}")
    if no_new_keyring:
        assert _keyring_line(p.stdout, caller) is not None
        assert ours is None
    else:
        assert _keyring_line(p.stdout, caller) is None
        assert ours is not None


@pytest.fixture(scope="module")
def reachable_rootfs(rootfs):
    """A rootfs the mapped root (nobody on the host) can reach: pytest's own
    temporary directories are private to the real root."""
    top = tempfile.mkdtemp(prefix="pyrunc-keyring-")
    os.chmod(top, 0o755)
    shutil.copytree(rootfs, os.path.join(top, "rootfs"), symlinks=True)
    yield os.path.join(top, "rootfs")
    shutil.rmtree(top)


def test_in_a_user_namespace_others_may_search(any_rt, keys_bundle, reachable_rootfs):
    """The keyring's owner is not the container's root there: runc lets others search."""
    keys_bundle.config["root"]["path"] = reachable_rootfs
    linux = keys_bundle.linux
    linux["namespaces"].append({"type": "user"})
    for key in ("uidMappings", "gidMappings"):
        linux[key] = [{"containerID": 0, "hostID": 100000, "size": 65536}]
    keys, caller = _run_keys(any_rt, keys_bundle)
    ours = _keyring_line(keys, f"_ses.{keys_bundle.id}")
    assert ours is not None, keys
    assert int(ours.split()[4], 16) & 0x00000008
