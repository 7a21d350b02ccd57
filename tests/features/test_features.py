"""`pyrunc features`: the document validates against the upstream schema, and what it
claims holds on real containers (or, for seccomp, in libseccomp and the kernel).

Claims exercised elsewhere: hooks (tests/hooks), idmap (tests/mounts), netDevices
(tests/netdev), seccomp actions, operators and flags on containers (tests/security),
cgroup v1/v2/rdma (tests/cgroups)."""

from __future__ import annotations

import json
import os
import re

import pytest

from tests.support import upstream
from tests.support.runtime import is_pyrunc

pytestmark = pytest.mark.skipif(not is_pyrunc(),
                                reason="runc 1.1.5 has no `features` command")


@pytest.fixture(scope="module")
def doc(tmp_path_factory) -> dict:
    from tests.support.runtime import Runtime

    p = Runtime(str(tmp_path_factory.mktemp("features")))("features", check=True)
    return json.loads(p.stdout)


def test_the_document_validates_against_the_upstream_schema(doc):
    upstream.validate(doc, "features-schema.json")
    assert doc["ociVersionMin"] <= doc["ociVersionMax"]


@pytest.mark.parametrize("key", ["ociVersionMin", "ociVersionMax"])
def test_configs_at_the_claimed_versions_are_accepted(rt, bundle, doc, key):
    bundle.config["ociVersion"] = doc[key]
    bundle.save()
    rt("run", "-b", bundle.path, bundle.id, check=True)


def test_the_hooks_are_the_six_kinds(doc):
    assert doc["hooks"] == ["prestart", "createRuntime", "createContainer", "startContainer",
                            "poststart", "poststop"]


def test_every_mount_option_is_accepted_on_a_container(rt, bundle, doc, tmp_path):
    """One bind mount per claimed option (idmap with a mapping, as it needs one)."""
    src = tmp_path / "src"
    src.mkdir()
    maps = {"uidMappings": [{"containerID": 0, "hostID": 0, "size": 1}],
            "gidMappings": [{"containerID": 0, "hostID": 0, "size": 1}]}
    for opt in doc["mountOptions"]:
        base = [] if opt in ("bind", "rbind") else ["rbind"]
        m = {"destination": f"/opts/{opt}", "type": "bind", "source": str(src),
             "options": [*base, opt]}
        if opt in ("idmap", "ridmap"):
            m.update(maps)
        bundle.config["mounts"].append(m)
    bundle.sh("grep -c ' /opts/' /proc/self/mountinfo")
    p = rt("run", "-b", bundle.path, bundle.id)
    assert p.returncode == 0, p.stderr
    assert int(p.stdout) == len(doc["mountOptions"])


def test_every_namespace_is_created(rt, bundle, doc):
    bundle.linux["namespaces"] = [{"type": t} for t in doc["linux"]["namespaces"]]
    bundle.linux["uidMappings"] = [{"containerID": 0, "hostID": 0, "size": 65536}]
    bundle.linux["gidMappings"] = [{"containerID": 0, "hostID": 0, "size": 65536}]
    bundle.args("/bin/sleep", "100")
    rt("run", "-d", "-b", bundle.path, bundle.id, check=True)
    pid = rt.state(bundle.id)["pid"]
    proc_names = {"mount": "mnt", "network": "net"}
    for t in doc["linux"]["namespaces"]:
        name = proc_names.get(t, t)
        link = "time_for_children" if t == "time" else name
        assert os.readlink(f"/proc/{pid}/ns/{link}") != os.readlink(f"/proc/self/ns/{link}"), t


def test_every_capability_is_granted(rt, bundle, doc):
    """All the claimed ones this runtime itself holds (root here lacks some)."""
    from runtime.process import capabilities

    numbers = capabilities.numbers()
    assert set(doc["linux"]["capabilities"]) <= set(numbers)
    with open("/proc/self/status") as f:
        held = int(next(line for line in f if line.startswith("CapBnd:")).split()[1], 16)
    caps = [c for c in doc["linux"]["capabilities"] if held >> numbers[c] & 1]
    assert len(caps) > 30
    bundle.process["capabilities"] = {k: caps for k in
                                      ("bounding", "effective", "permitted", "inheritable")}
    bundle.sh("grep CapEff /proc/self/status")
    p = rt("run", "-b", bundle.path, bundle.id)
    assert p.returncode == 0, p.stderr
    want = 0
    for c in caps:
        want |= 1 << numbers[c]
    assert int(p.stdout.split()[1], 16) == want


def test_every_seccomp_name_is_recognized_by_the_compiler(doc):
    from runtime.process import seccomp

    sc = doc["linux"]["seccomp"]
    assert sc["enabled"] is True
    assert set(sc["supportedFlags"]) <= set(sc["knownFlags"])
    for act in sc["actions"]:
        if act == "SCMP_ACT_NOTIFY":
            continue  # needs a listener: tests/security's notify agent test
        default = "SCMP_ACT_ERRNO" if act == "SCMP_ACT_ALLOW" else "SCMP_ACT_ALLOW"
        assert seccomp.compile_profile({"defaultAction": default,
                                        "syscalls": [{"names": ["acct"], "action": act}]})
    for op in sc["operators"]:
        rule = {"names": ["acct"], "action": "SCMP_ACT_ERRNO",
                "args": [{"index": 0, "value": 1, "valueTwo": 1, "op": op}]}
        assert seccomp.compile_profile({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [rule]})
    for arch in sc["archs"]:
        assert seccomp.arch_token(arch)  # recognized; filters mix only compatible ones
    if os.uname().machine == "x86_64":
        assert seccomp.compile_profile({"defaultAction": "SCMP_ACT_ALLOW", "architectures": [
            "SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"]})
    for flag in sc["supportedFlags"]:
        if flag == "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV":
            continue  # only with a notify listener: tests/security
        assert seccomp.compile_profile({"defaultAction": "SCMP_ACT_ALLOW", "flags": [flag]})


def test_supported_seccomp_flags_are_loaded_by_a_container(rt, bundle, doc):
    flags = [f for f in doc["linux"]["seccomp"]["supportedFlags"]
             if f != "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"]
    bundle.linux["seccomp"] = {"defaultAction": "SCMP_ACT_ALLOW", "flags": flags,
                               "syscalls": [{"names": ["acct"], "action": "SCMP_ACT_ERRNO"}]}
    bundle.sh("grep Seccomp: /proc/self/status")
    p = rt("run", "-b", bundle.path, bundle.id)
    assert p.returncode == 0, p.stderr
    assert p.stdout.split() == ["Seccomp:", "2"]


def _numa_policy(rt, bundle, policy: dict) -> str:
    bundle.linux["memoryPolicy"] = policy
    bundle.sh("head -1 /proc/self/numa_maps")
    p = rt("run", "-b", bundle.path, bundle.id)
    assert p.returncode == 0, p.stderr
    return p.stdout.split()[1]


# What /proc/<pid>/numa_maps shows for each mode on node 0 (mempolicy.c's mpol_to_str).
SHOWN = {"MPOL_DEFAULT": "default", "MPOL_PREFERRED": "prefer:0", "MPOL_BIND": "bind:0",
         "MPOL_INTERLEAVE": "interleave:0", "MPOL_LOCAL": "local",
         "MPOL_PREFERRED_MANY": "prefer (many):0", "MPOL_WEIGHTED_INTERLEAVE":
         "weighted interleave:0"}


@pytest.mark.skipif(not os.path.exists("/sys/devices/system/node/node0"),
                    reason="no NUMA node 0 on this host")
def test_every_memory_policy_mode_is_set(rt, make_bundle, doc):
    for mode in doc["linux"]["memoryPolicy"]["modes"]:
        policy = {"mode": mode}
        if mode not in ("MPOL_DEFAULT", "MPOL_LOCAL"):
            policy["nodes"] = "0"
        shown = _numa_policy(rt, make_bundle(), policy)
        assert shown == SHOWN[mode].split()[0] or shown.startswith(SHOWN[mode].split(":")[0]), \
            (mode, shown)


@pytest.mark.skipif(not os.path.exists("/sys/devices/system/node/node0"),
                    reason="no NUMA node 0 on this host")
def test_every_memory_policy_flag_is_set(rt, make_bundle, doc):
    shown = {"MPOL_F_STATIC_NODES": "bind=static:0", "MPOL_F_RELATIVE_NODES": "bind=relative:0"}
    for flag in doc["linux"]["memoryPolicy"]["flags"]:
        # NUMA balancing is for MPOL_BIND only; numa_maps shows it as "bind=balancing".
        got = _numa_policy(rt, make_bundle(), {"mode": "MPOL_BIND", "nodes": "0",
                                               "flags": [flag]})
        assert got == shown.get(flag, "bind=balancing:0"), (flag, got)


def test_memory_policy_errors(rt, make_bundle):
    for policy, message in (({"mode": "MPOL_BIND"}, "needs nodes"),
                            ({"mode": "MPOL_LOCAL", "nodes": "0"}, "takes no nodes"),
                            ({"mode": "MPOL_BIND", "nodes": "3-1"}, "invalid node range"),
                            ({"mode": "MPOL_BIND", "nodes": "9999"}, "set_mempolicy")):
        b = make_bundle()
        b.linux["memoryPolicy"] = policy
        b.save()
        p = rt("create", "-b", b.path, b.id)
        assert p.returncode == 1 and message in p.stderr, (policy, p.stderr)
        assert rt.ids() == []


def test_intel_rdt_is_not_claimed_and_refused_clearly(rt, bundle, doc):
    from runtime.process.preflight import resctrl_mounted

    assert doc["linux"]["intelRdt"] == {"enabled": False}
    bundle.linux["intelRdt"] = {"closID": "c1", "l3CacheSchema": "L3:0=f"}
    bundle.save()
    p = rt("create", "-b", bundle.path, bundle.id)
    assert p.returncode == 1
    want = "not supported on this host" if not resctrl_mounted() else "does not implement"
    assert "intelRdt" in p.stderr and want in p.stderr
    assert rt.ids() == []


def test_the_libseccomp_annotation_is_the_linked_version(rt, doc):
    version = rt("--version", check=True).stdout
    seen = re.search(r"libseccomp: (\S+)", version).group(1)
    assert doc["annotations"]["io.github.seccomp.libseccomp.version"] == seen


def test_extensions_claimed(doc):
    linux = doc["linux"]
    assert linux["mountExtensions"] == {"idmap": {"enabled": True}}
    assert linux["netDevices"] == {"enabled": True}
    assert linux["cgroup"]["systemd"] is True   # --systemd-cgroup (docs/systemd.md)
    assert linux["cgroup"]["systemdUser"] is True   # rootless: the user's systemd (v2)


def test_checkpoint_support_reported_as_runc(any_rt):
    """runc's annotation; "true" where criu's RPC messages and protobuf are installed."""
    import json

    doc = json.loads(any_rt("features", check=True).stdout)
    assert doc["annotations"]["org.opencontainers.runc.checkpoint.enabled"] == "true"
    if "potentiallyUnsafeConfigAnnotations" in doc:  # runc >= 1.2 lists it
        assert "org.criu.config" in doc["potentiallyUnsafeConfigAnnotations"]
