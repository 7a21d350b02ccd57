"""process.capabilities: the five sets, kept across the user switch exactly as
configured (seen on the waiting init, before execve), then what execve makes
of them (the kernel's rules), for root and for another user."""

from __future__ import annotations

import pytest

from runtime.process.capabilities import numbers
from tests.security.helpers import cap_mask, created, running, status

SETS = {
    "bounding": ["CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_SETUID", "CAP_SETGID",
                 "CAP_SYS_CHROOT"],
    "permitted": ["CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
    "effective": ["CAP_KILL", "CAP_NET_BIND_SERVICE"],
    "inheritable": ["CAP_CHOWN", "CAP_NET_BIND_SERVICE"],
    "ambient": ["CAP_NET_BIND_SERVICE"],
}
FIELDS = {"bounding": "CapBnd", "permitted": "CapPrm", "effective": "CapEff",
          "inheritable": "CapInh", "ambient": "CapAmb"}


def bits(names) -> int:
    known = numbers()
    return sum(1 << known[n] for n in names)


def caps_of(pid: int) -> dict[str, int]:
    st = status(pid)
    return {key: cap_mask(st[field]) for key, field in FIELDS.items()}


@pytest.mark.parametrize("uid", [0, 1000])
def test_sets_are_exactly_as_configured_before_exec(rt, bundle, uid):
    bundle.process["capabilities"] = SETS
    bundle.process["user"] = {"uid": uid, "gid": uid}
    bundle.save()
    assert caps_of(created(rt, bundle)) == {k: bits(v) for k, v in SETS.items()}


def test_after_exec_as_a_user_only_ambient_remain(rt, bundle):
    # A file without capabilities, run by a non-root user: permitted and
    # effective become the ambient set; inheritable and bounding stay.
    bundle.process["capabilities"] = SETS
    bundle.process["user"] = {"uid": 1000, "gid": 1000}
    bundle.save()
    caps = caps_of(running(rt, bundle))
    assert caps == {"bounding": bits(SETS["bounding"]), "inheritable": bits(SETS["inheritable"]),
                    "ambient": bits(SETS["ambient"]), "permitted": bits(SETS["ambient"]),
                    "effective": bits(SETS["ambient"])}


@pytest.mark.parametrize("nnp", [False, True])
def test_after_exec_as_root(rt, bundle, nnp):
    # Root execs get bounding | inheritable as permitted, all of it effective;
    # with no_new_privs the exec can't gain what the process did not permit.
    bundle.process["capabilities"] = SETS
    bundle.process["noNewPrivileges"] = nnp
    bundle.save()
    caps = caps_of(running(rt, bundle))
    full = bits(SETS["bounding"]) | bits(SETS["inheritable"])
    if nnp:
        full &= bits(SETS["permitted"])
    assert caps["permitted"] == caps["effective"] == full
    assert caps["bounding"] == bits(SETS["bounding"])
    assert caps["ambient"] == bits(SETS["ambient"])


def test_no_capabilities_at_all(rt, bundle):
    bundle.process["capabilities"] = {}
    bundle.process["user"] = {"uid": 1000, "gid": 1000}
    bundle.save()
    assert caps_of(created(rt, bundle)) == dict.fromkeys(FIELDS, 0)


def test_ambient_needs_permitted_and_inheritable(rt, bundle):
    # The kernel refuses to raise an ambient capability missing from either set;
    # like runc, such a name is skipped rather than failing the container.
    sets = dict(SETS, ambient=["CAP_NET_BIND_SERVICE", "CAP_KILL"])
    bundle.process["capabilities"] = sets
    bundle.process["user"] = {"uid": 1000, "gid": 1000}
    bundle.save()
    assert caps_of(created(rt, bundle))["ambient"] == bits(["CAP_NET_BIND_SERVICE"])


def test_unknown_capability_is_skipped_with_a_warning(rt, bundle, tmp_path):
    sets = {k: v + ["CAP_NO_SUCH_THING"] for k, v in SETS.items()}
    bundle.process["capabilities"] = sets
    bundle.process["user"] = {"uid": 1000, "gid": 1000}
    bundle.save()
    log = tmp_path / "log.json"
    p = rt("create", "-b", bundle.path, bundle.id, log=str(log))
    assert p.returncode == 0, p.stderr
    caps = caps_of(rt.state(bundle.id)["pid"])
    assert caps == {k: bits(v) for k, v in SETS.items()}
    text = log.read_text()
    assert "CAP_NO_SUCH_THING" in text
    assert '"level": "warning"' in text or '"level":"warning"' in text


def test_effective_capability_works_for_a_user(rt, bundle):
    # CAP_CHOWN in every set lets uid 1000 give a file away; without it, it can't.
    bundle.own_rootfs()
    bundle.process["user"] = {"uid": 1000, "gid": 1000}
    bundle.process["capabilities"] = {k: ["CAP_CHOWN"] for k in FIELDS}
    bundle.sh("touch /tmp/f && chown 0 /tmp/f && echo ok").save()
    p = rt("run", "-b", bundle.path, bundle.id)
    assert (p.returncode, p.stdout) == (0, "ok\n"), p.stderr


def test_without_the_capability_a_user_cannot(rt, bundle):
    bundle.own_rootfs()
    bundle.process["user"] = {"uid": 1000, "gid": 1000}
    bundle.process["capabilities"] = {k: ["CAP_KILL"] for k in FIELDS}
    bundle.sh("touch /tmp/f && chown 0 /tmp/f && echo ok").save()
    p = rt("run", "-b", bundle.path, bundle.id)
    assert p.returncode != 0
    assert "Operation not permitted" in p.stdout + p.stderr

