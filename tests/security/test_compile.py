"""The runtime-side pieces that need no container: the seccomp compiler (real
libseccomp), sysctl key spelling, CPU lists, id-mapping checks."""

from __future__ import annotations

import pytest

from runtime.errors import PyruncError
from runtime.native import lib
from runtime.process import parent, sched, seccomp, sysctl

DENY_MKDIR = {"defaultAction": "SCMP_ACT_ALLOW",
              "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_ERRNO"}]}


def test_compiled_program_is_whole_bpf_instructions():
    f = seccomp.compile_profile(DENY_MKDIR)
    assert f is not None and len(f.bpf) % 8 == 0 and f.instructions > 3
    assert not f.notify


def test_no_default_action_and_no_rules_means_no_filter():
    assert seccomp.compile_profile({"defaultAction": "", "syscalls": []}) is None


def test_flags_default_to_spec_allow_like_runc():
    assert seccomp.compile_profile(DENY_MKDIR).flags == lib.SECCOMP_FILTER_FLAG_SPEC_ALLOW
    assert seccomp.compile_profile({**DENY_MKDIR, "flags": []}).flags == 0
    both = seccomp.compile_profile({**DENY_MKDIR, "flags": ["SECCOMP_FILTER_FLAG_LOG",
                                                          "SECCOMP_FILTER_FLAG_TSYNC"]})
    assert both.flags == lib.SECCOMP_FILTER_FLAG_LOG  # TSYNC accepted, not needed


def test_notify_adds_the_listener_flag():
    f = seccomp.compile_profile({"defaultAction": "SCMP_ACT_ALLOW", "listenerPath": "/x",
                                 "syscalls": [{"names": ["mkdir"],
                                               "action": "SCMP_ACT_NOTIFY"}]})
    assert f.notify and f.flags & lib.SECCOMP_FILTER_FLAG_NEW_LISTENER


def test_more_architectures_make_a_longer_program():
    one = seccomp.compile_profile(DENY_MKDIR)
    three = seccomp.compile_profile({**DENY_MKDIR, "architectures": [
        "SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"]})
    assert three.instructions > one.instructions


def test_rule_with_the_default_action_is_dropped():
    plain = seccomp.compile_profile({"defaultAction": "SCMP_ACT_ALLOW", "flags": []})
    redundant = seccomp.compile_profile({"defaultAction": "SCMP_ACT_ALLOW", "flags": [],
                                         "syscalls": [{"names": ["mkdir"],
                                                       "action": "SCMP_ACT_ALLOW"}]})
    assert plain.bpf == redundant.bpf


def test_unknown_syscall_is_skipped():
    known = seccomp.compile_profile(DENY_MKDIR)
    extra = seccomp.compile_profile({**DENY_MKDIR, "syscalls": DENY_MKDIR["syscalls"] + [
        {"names": ["no_such_syscall"], "action": "SCMP_ACT_ERRNO"}]})
    assert known.bpf == extra.bpf


def test_errno_values_differ_in_the_program():
    a = seccomp.compile_profile(DENY_MKDIR)
    b = seccomp.compile_profile({**DENY_MKDIR, "syscalls": [
        {"names": ["mkdir"], "action": "SCMP_ACT_ERRNO", "errnoRet": 28}]})
    assert a.bpf != b.bpf


@pytest.mark.parametrize("profile,words", [
    ({"defaultAction": "SCMP_ACT_ALLOW", "flags": ["SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"]},
     "SCMP_ACT_NOTIFY"),
    ({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": [""], "action": "SCMP_ACT_LOG"}]},
     "empty string"),
    ({"defaultAction": "SCMP_ACT_ALLOW", "listenerMetadata": "x"}, "listenerPath"),
    ({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
        {"names": ["sendmsg"], "action": "SCMP_ACT_NOTIFY"}], "listenerPath": "/x"}, "sendmsg"),
])
def test_refused_profiles(profile, words):
    with pytest.raises(PyruncError, match=words):
        seccomp.compile_profile(profile)


def test_sysctl_spellings():
    assert sysctl.dotted("net.ipv4.ip_forward") == "net.ipv4.ip_forward"
    assert sysctl.dotted("net/ipv4/conf/eth0.100/rp_filter") == "net.ipv4.conf.eth0/100.rp_filter"
    assert sysctl.proc_path("net.ipv4.conf.eth0/100.rp_filter") == \
        "/proc/sys/net/ipv4/conf/eth0.100/rp_filter"
    assert sysctl.proc_path("kernel/shmmax") == "/proc/sys/kernel/shmmax"


def test_cpu_lists():
    assert sched.parse_cpus("0-3,7") == {0, 1, 2, 3, 7}
    assert sched.cpu_mask({0, 2}) == bytes([0b101]) + bytes(7)
    assert len(sched.cpu_mask({64})) == 16
    for bad in ("", "3-1", "a", "1,,2", "-1"):
        with pytest.raises(ValueError):
            sched.parse_cpus(bad)
    with pytest.raises(PyruncError, match="CPUAffinity.Initial"):
        sched.check_affinity({"initial": "x"})


@pytest.mark.parametrize("maps,words", [
    ([{"containerID": 0, "hostID": 1000, "size": 0}], "no size"),
    ([{"containerID": 0, "hostID": 1000, "size": 100},
      {"containerID": 10, "hostID": 5000, "size": 5}], "container ids"),
    ([{"containerID": 0, "hostID": 1000, "size": 100},
      {"containerID": 200, "hostID": 0, "size": 5000}], "host ids"),
    ([{"containerID": 0, "hostID": 2**32 - 10, "size": 100}], "beyond"),
])
def test_bad_id_mappings(maps, words):
    with pytest.raises(PyruncError, match=words):
        parent.check_id_mappings({"uidMappings": maps})


def test_adjacent_id_mappings_are_fine():
    parent.check_id_mappings({"uidMappings": [
        {"containerID": 0, "hostID": 1000, "size": 10},
        {"containerID": 10, "hostID": 1010, "size": 10}]})


def test_mount_label_goes_to_filesystems_that_take_it():
    from runtime.process import lsm

    label = "system_u:object_r:container_file_t:s0"
    tmpfs = {"destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid"]}
    assert lsm.labelled_mount(tmpfs, label)["options"] == ["nosuid", f'context="{label}"']
    assert tmpfs["options"] == ["nosuid"]  # the config is not changed
    for m in ({"destination": "/proc", "type": "proc", "source": "proc"},
              {"destination": "/x", "type": "bind", "source": "/tmp", "options": ["rbind"]}):
        assert lsm.labelled_mount(m, label) is m
    assert lsm.labelled_mount(tmpfs, "") is tmpfs
    assert lsm.mount_data("", label) == f'context="{label}"'
    assert lsm.mount_data("mode=755", label) == f'mode=755,context="{label}"'


def test_lsm_exec_attributes():
    from runtime.process import lsm

    path, content = lsm.apparmor_exec_write("docker-default")
    assert path.startswith("/proc/thread-self/attr/") and path.endswith("/exec")
    assert content == "exec docker-default"
    assert lsm.apparmor_exec_write("") is None
    assert lsm.selinux_exec_write("a:b:c:s0") == ("/proc/thread-self/attr/exec", "a:b:c:s0")
