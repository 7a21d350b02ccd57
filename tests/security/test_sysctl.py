"""linux.sysctl: namespaced keys are written in the container's namespaces; keys
the container's namespaces do not isolate are refused before anything is made."""

from __future__ import annotations

import os

import pytest

from tests.security.helpers import assert_create_fails_cleanly, output


def host(path: str) -> str:
    with open(path) as f:
        return f.read()


def test_namespaced_sysctls_are_set_inside_only(rt, bundle):
    before = {p: host(p) for p in ("/proc/sys/net/ipv4/ip_forward", "/proc/sys/kernel/shmmax",
                                   "/proc/sys/fs/mqueue/msg_max")}
    bundle.linux["sysctl"] = {
        "net.ipv4.ip_forward": "1",
        "net/ipv4/tcp_syncookies": "0",  # sysctl(8) also allows '/' separators
        "kernel.shmmax": "123456789",
        "fs.mqueue.msg_max": "42",
        "kernel.domainname": "example.org",
    }
    out = output(rt, bundle.save(), "cd /proc/sys; cat net/ipv4/ip_forward "
                 "net/ipv4/tcp_syncookies kernel/shmmax fs/mqueue/msg_max kernel/domainname")
    assert out.split() == ["1", "0", "123456789", "42", "example.org"]
    assert {p: host(p) for p in before} == before


def _without(bundle, kind: str):
    bundle.linux["namespaces"] = [n for n in bundle.linux["namespaces"] if n["type"] != kind]


@pytest.mark.parametrize("key,drop,words", [
    ("vm.swappiness", None, ("vm.swappiness", "is not in a separate kernel namespace")),
    ("kernel.printk", None, ("kernel.printk", "is not in a separate kernel namespace")),
    ("net.ipv4.ip_forward", "network", ("net.ipv4.ip_forward", "not allowed in host network")),
    ("kernel.shmmax", "ipc", ("kernel.shmmax", "not allowed in the hosts ipc namespace")),
    ("fs.mqueue.msg_max", "ipc", ("fs.mqueue.msg_max", "hosts ipc namespace")),
    ("kernel.hostname", None, ("kernel.hostname", "conflicts with the OCI")),
    ("kernel.domainname", "uts", ("kernel.domainname", "not in a separate kernel namespace")),
    # runc 1.1.5 words this one "is not in a separate kernel namespace".
    ("user.max_user_namespaces", None, ("user.max_user_namespaces", "namespace")),
])
def test_unisolated_sysctl_is_refused(rt, bundle, cgroup_parent, key, drop, words):
    path = "/proc/sys/" + key.replace(".", "/")
    before = host(path)
    bundle.linux["sysctl"] = {key: "1"}
    if drop:
        _without(bundle, drop)
        if drop == "uts":
            bundle.config.pop("hostname", None)
    bundle.save()
    assert_create_fails_cleanly(rt, bundle, cgroup_parent, *words)
    assert host(path) == before


def test_net_sysctl_in_a_joined_host_netns_is_refused(rt, bundle, cgroup_parent):
    bundle.linux["namespaces"] = [n if n["type"] != "network" else
                                  {"type": "network", "path": f"/proc/{os.getpid()}/ns/net"}
                                  for n in bundle.linux["namespaces"]]
    bundle.linux["sysctl"] = {"net.ipv4.ip_forward": "1"}
    bundle.save()
    assert_create_fails_cleanly(rt, bundle, cgroup_parent, "not allowed in host network")
