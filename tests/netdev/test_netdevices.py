"""linux.netDevices on real containers, with veth pairs the tests make (this kernel
has no dummy driver): moved, renamed, addresses kept, up; and gone with the
container's network namespace (a virtual device is destroyed with it)."""

from __future__ import annotations

import errno
import os
import time
import uuid

import pytest

pyroute2 = pytest.importorskip("pyroute2", reason="pyrunc's netDevices need pyroute2")


@pytest.fixture
def veth():
    """(name moved into the container, its peer on the host); removed afterwards."""
    tag = uuid.uuid4().hex[:6]
    inner, outer = f"pyr{tag}a", f"pyr{tag}b"
    with pyroute2.IPRoute() as ipr:
        ipr.link("add", ifname=inner, kind="veth", peer=outer)
        index = ipr.link_lookup(ifname=inner)[0]
        ipr.addr("add", index=index, address="10.203.7.2", prefixlen=24)
        ipr.addr("add", index=index, address="fd00:203:7::2", prefixlen=64)
    yield inner, outer
    # A namespace's devices die in a kernel worker after its last process: the
    # peer can still be listed here and gone (ENODEV) when deleted.
    with pyroute2.IPRoute() as ipr:
        for name in (inner, outer):
            for index in ipr.link_lookup(ifname=name):
                try:
                    ipr.link("del", index=index)
                except pyroute2.NetlinkError as err:
                    if err.code != errno.ENODEV:
                        raise


def _exists(name: str) -> bool:
    return os.path.exists(f"/sys/class/net/{name}")


def _gone(name: str, seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while _exists(name):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def test_a_device_is_moved_renamed_addressed_and_up(rt, bundle, veth):
    inner, outer = veth
    bundle.linux["netDevices"] = {inner: {"name": "ctr0"}}
    bundle.sh("ip -o addr show dev ctr0; ip -o link show dev ctr0; sleep 1000")
    rt("run", "-d", "-b", bundle.path, bundle.id, check=True)
    pid = rt.state(bundle.id)["pid"]
    assert not _exists(inner)  # gone from the host...
    with pyroute2.IPRoute(netns=f"/proc/{pid}/ns/net") as ipr:  # ...and in the container
        (index,) = ipr.link_lookup(ifname="ctr0")
        link = ipr.get_links(index)[0]
        assert link.get_attr("IFLA_OPERSTATE") in ("UP", "LOWERLAYERDOWN")
        assert link["flags"] & 1  # IFF_UP
        addrs = {(a.get_attr("IFA_ADDRESS"), a["prefixlen"]) for a in ipr.get_addr(index=index)}
    assert ("10.203.7.2", 24) in addrs
    assert ("fd00:203:7::2", 64) in addrs
    rt("kill", bundle.id, "KILL", check=True)
    rt.wait_status(bundle.id, "stopped")
    rt("delete", bundle.id, check=True)
    # Not moved back: a veth dies with the namespace, and takes its peer along
    # (in a kernel worker, so a moment after the last process).
    assert _gone(inner) and _gone(outer)


def test_the_host_name_is_kept_without_a_name(rt, bundle, veth):
    inner, _ = veth
    bundle.linux["netDevices"] = {inner: {}}
    bundle.sh(f"ip -o link show dev {inner} >/dev/null && echo present")
    p = rt("run", "-b", bundle.path, bundle.id)
    assert (p.returncode, p.stdout) == (0, "present\n"), p.stderr


def test_a_name_template_gets_a_free_name_from_the_kernel(rt, bundle, veth):
    inner, _ = veth
    bundle.linux["netDevices"] = {inner: {"name": "lo%d"}}
    bundle.sh("ip -o link show | grep -o ' lo[0-9]*[:@]'")
    p = rt("run", "-b", bundle.path, bundle.id)
    assert p.returncode == 0, p.stderr
    assert p.stdout.split() == ["lo:", "lo0@"]


def test_a_name_taken_in_the_container_fails_create_and_leaves_nothing(rt, bundle, veth):
    inner, _ = veth
    bundle.linux["netDevices"] = {inner: {"name": "lo"}}
    bundle.save()
    p = rt("create", "-b", bundle.path, bundle.id)
    assert p.returncode == 1
    assert f"move network device {inner}" in p.stderr and "exists there" in p.stderr
    assert rt.ids() == []
    assert _exists(inner)  # the move failed: still on the host


@pytest.mark.parametrize("change, message", [
    (lambda b, dev: b.linux.update(netDevices={"pyr-missing0": {}}), "no network device"),
    (lambda b, dev: b.linux.update(netDevices={dev: {"name": "x" * 16}}), "invalid name"),
    (lambda b, dev: (b.linux.update(netDevices={dev: {}}),
                     b.linux.update(namespaces=[n for n in b.linux["namespaces"]
                                                if n["type"] != "network"])),
     "new network namespace"),
])
def test_impossible_moves_fail_before_anything_exists(rt, bundle, veth, change, message):
    change(bundle, veth[0])
    bundle.save()
    p = rt("create", "-b", bundle.path, bundle.id)
    assert p.returncode == 1
    assert message in p.stderr
    assert rt.ids() == [] and _exists(veth[0])
