"""Bad values fail `create` with one clear line and leave nothing behind: no state
directory under --root, no cgroup, no process."""

from __future__ import annotations

import pytest

from tests.security.helpers import assert_create_fails_cleanly, runc_lacks
from tests.support.runtime import is_pyrunc


def _ns(config, kind):
    config["linux"]["namespaces"].append({"type": kind})


def _drop_ns(config, kind):
    config["linux"]["namespaces"] = [n for n in config["linux"]["namespaces"]
                                     if n["type"] != kind]


def _seccomp(config, **fields):
    profile = {"defaultAction": "SCMP_ACT_ALLOW",
               "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_ERRNO"}]}
    profile.update(fields)
    config["linux"]["seccomp"] = profile


def _userns(config, maps):
    _ns(config, "user")
    config["linux"]["uidMappings"] = maps
    config["linux"]["gidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 10}]


# name -> (change to a good config, words the error line must contain)
CASES = {
    "bad rlimit name": (
        lambda c: c["process"].update(rlimits=[{"type": "RLIMIT_BOGUS", "soft": 1, "hard": 1}]),
        ("RLIMIT_BOGUS",)),
    "rlimit soft above hard": (
        lambda c: c["process"].update(rlimits=[{"type": "RLIMIT_NOFILE", "soft": 20,
                                                "hard": 10}]),
        ("rlimit",)),
    "non-namespaced sysctl": (
        lambda c: c["linux"].update(sysctl={"vm.overcommit_memory": "1"}),
        ("vm.overcommit_memory", "is not in a separate kernel namespace")),
    "unknown namespace type": (
        lambda c: _ns(c, "bogus"), ("bogus",)),
    "overlapping uid mappings": (
        lambda c: _userns(c, [{"containerID": 0, "hostID": 100000, "size": 10},
                              {"containerID": 5, "hostID": 200000, "size": 10}]),
        ("uid",)),
    "overlapping host ids": (
        lambda c: _userns(c, [{"containerID": 0, "hostID": 100000, "size": 10},
                              {"containerID": 100, "hostID": 100005, "size": 10}]),
        ("uid",)),
    "user namespace without mappings": (
        lambda c: _ns(c, "user"), ("user namespace",)),
    "mappings without a user namespace": (
        lambda c: c["linux"].update(uidMappings=[{"containerID": 0, "hostID": 1, "size": 1}]),
        ("user namespace",)),
    "unknown seccomp action": (
        lambda c: _seccomp(c, defaultAction="SCMP_ACT_BOGUS"), ("SCMP_ACT_BOGUS",)),
    "unknown seccomp operator": (
        lambda c: _seccomp(c, syscalls=[{"names": ["mkdir"], "action": "SCMP_ACT_ERRNO",
                                         "args": [{"index": 0, "value": 1,
                                                   "op": "SCMP_CMP_BOGUS"}]}]),
        ("SCMP_CMP_BOGUS",)),
    "seccomp argument index out of range": (
        lambda c: _seccomp(c, syscalls=[{"names": ["mkdir"], "action": "SCMP_ACT_ERRNO",
                                         "args": [{"index": 6, "value": 1,
                                                   "op": "SCMP_CMP_EQ"}]}]),
        ("6",)),
    "unknown seccomp architecture": (
        lambda c: _seccomp(c, architectures=["SCMP_ARCH_BOGUS"]), ("SCMP_ARCH_BOGUS",)),
    "unknown seccomp flag": (
        lambda c: _seccomp(c, flags=["SECCOMP_FILTER_FLAG_BOGUS"]),
        ("SECCOMP_FILTER_FLAG_BOGUS",)),
    "hostname without a uts namespace": (
        lambda c: _drop_ns(c, "uts"), ("hostname", "UTS namespace")),
    "masked paths without a mount namespace": (
        lambda c: (_drop_ns(c, "mount"), c.update(mounts=[]),
                   c["linux"].update(readonlyPaths=[])),
        ("MNT namespace",)),
    "selinux label without selinux": (
        lambda c: c["process"].update(selinuxLabel="system_u:system_r:container_t:s0"),
        ("selinux",)),
    "environment entry without =": (
        lambda c: c["process"].update(env=["PATH=/bin", "JUSTANAME"]), ("environment",)),
}

# What runc 1.1.5 gets to only in its init, or not at all.
RUNC_DIFFERS = {
    "overlapping uid mappings": "runc 1.1.5 reports the kernel's refusal in the init",
    "overlapping host ids": "runc 1.1.5 reports the kernel's refusal in the init",
    "seccomp argument index out of range": "runc 1.1.5 words it without the index",
    "environment entry without =": "runc 1.1.5 reports it from the init, with a second line",
    "mappings without a user namespace": "runc 1.1.5 ignores the mappings",
    "unknown seccomp flag": "runc 1.1.5 supports no seccomp flags at all",
}

PYRUNC_ONLY = {
    "time offsets without a time namespace": (
        lambda c: c["linux"].update(timeOffsets={"boottime": {"secs": 1}}),
        ("time namespace",)),
    "unknown clock in time offsets": (
        lambda c: (_ns(c, "time"), c["linux"].update(timeOffsets={"realtime": {"secs": 1}})),
        ("realtime",)),
    "apparmor profile without apparmor": (
        lambda c: c["process"].update(apparmorProfile="docker-default"), ("apparmor",)),
    "scheduler nice out of range": (
        lambda c: c["process"].update(scheduler={"policy": "SCHED_OTHER", "nice": 40}),
        ("nice",)),
    "scheduler priority for SCHED_OTHER": (
        lambda c: c["process"].update(scheduler={"policy": "SCHED_OTHER", "priority": 5}),
        ("priority",)),
    "io priority level out of range": (
        lambda c: c["process"].update(ioPriority={"class": "IOPRIO_CLASS_BE", "priority": 9}),
        ("ioPriority",)),
    "personality domain": (
        lambda c: c["linux"].update(personality={"domain": "LINUX64"}), ("LINUX64",)),
    "errnoRet on an action without errno": (
        lambda c: _seccomp(c, syscalls=[{"names": ["mkdir"], "action": "SCMP_ACT_LOG",
                                         "errnoRet": 5}]), ("errnoRet",)),
    "seccomp notify without listenerPath": (
        lambda c: _seccomp(c, syscalls=[{"names": ["mkdir"], "action": "SCMP_ACT_NOTIFY"}]),
        ("listenerPath",)),
    "seccomp notify on write": (
        lambda c: _seccomp(c, listenerPath="/run/none.sock",
                           syscalls=[{"names": ["write"], "action": "SCMP_ACT_NOTIFY"}]),
        ("write",)),
    "seccomp notify as default action": (
        lambda c: _seccomp(c, defaultAction="SCMP_ACT_NOTIFY", listenerPath="/run/none.sock"),
        ("default action",)),
}


def _params():
    for name, case in CASES.items():
        marks = []
        if name in RUNC_DIFFERS:
            marks.append(pytest.mark.skipif(not is_pyrunc(), reason=RUNC_DIFFERS[name]))
        yield pytest.param(*case, id=name, marks=marks)
    for name, case in PYRUNC_ONLY.items():
        yield pytest.param(*case, id=name, marks=[runc_lacks(f"this check ({name})")])


@pytest.mark.parametrize("change,words", list(_params()))
def test_bad_value_fails_create_cleanly(rt, bundle, cgroup_parent, change, words):
    change(bundle.config)
    bundle.save()
    assert_create_fails_cleanly(rt, bundle, cgroup_parent, *words)
