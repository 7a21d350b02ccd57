"""linux.seccomp on real containers: a Docker-like allow-list, every action, every
argument operator, errnoRet, architectures, flags, and SCMP_ACT_NOTIFY with an
agent written here.  The filter is checked from outside (/proc/<pid>/status)
and by what the container's commands can and cannot do."""

from __future__ import annotations

import errno
import json
import os
import socket
import struct
import threading

import pytest

from runtime.native import lib
from tests.security.helpers import created, output, runc_lacks, running, status
from tests.security.profiles import docker_like

ALL_CAPS_FOR_ADMIN = ["CAP_SYS_ADMIN", "CAP_SYS_CHROOT", "CAP_SETUID", "CAP_SETGID",
                      "CAP_DAC_OVERRIDE", "CAP_CHOWN", "CAP_KILL"]
PROBE = ("unshare -m true 2>&1; echo unshare=$?; mount -t tmpfs none /mnt 2>&1; "
         "echo mount=$?; echo hello; ls / >/dev/null && echo ls=ok; id -u; "
         "sh -c 'echo child' ; cat /etc/passwd | wc -l")


def _admin(bundle):
    """CAP_SYS_ADMIN in every set: only seccomp can stand between the shell and
    unshare/mount then."""
    bundle.process["capabilities"] = {k: ALL_CAPS_FOR_ADMIN for k in
                                      ("bounding", "effective", "permitted", "inheritable")}
    bundle.own_rootfs()
    os.makedirs(os.path.join(bundle.path, "rootfs", "mnt"), exist_ok=True)


def test_without_seccomp_the_probe_can_unshare_and_mount(rt, bundle):
    # The control for the next test: the same container without a filter.
    _admin(bundle)
    out = output(rt, bundle.save(), PROBE)
    assert "unshare=0" in out and "mount=0" in out


@pytest.mark.parametrize("nnp", [True, False])
def test_docker_like_profile(rt, bundle, nnp):
    _admin(bundle)
    bundle.process["noNewPrivileges"] = nnp
    bundle.linux["seccomp"] = docker_like()
    out = output(rt, bundle.save(), PROBE).splitlines()
    # busybox words EPERM from mount(2) as "permission denied (are you root?)"
    assert out == ["unshare: unshare(0x20000): Operation not permitted", "unshare=1",
                   "mount: permission denied (are you root?)", "mount=1",
                   "hello", "ls=ok", "0", "child", "2"]


def test_filter_is_seen_from_outside(rt, bundle):
    bundle.linux["seccomp"] = docker_like()
    st = status(running(rt, bundle.save()))
    assert st["Seccomp"] == "2"
    assert st["Seccomp_filters"] == "1"


def test_filter_without_no_new_privs_is_loaded_at_start(rt, bundle):
    # Without no_new_privs the filter goes on at start, while the init still has
    # CAP_SYS_ADMIN, right before the user switch: until then the created
    # container waits for start with no filter (nothing after it but the switch's
    # calls and the exec), then runs under it without no_new_privs.
    bundle.process["noNewPrivileges"] = False
    bundle.process["user"] = {"uid": 1000, "gid": 1000}
    bundle.linux["seccomp"] = docker_like()
    bundle.args("/bin/sleep", "100").save()
    st = status(created(rt, bundle))
    assert st["Seccomp"] == "0"
    assert st["Uid"].split()[0] == "0"
    assert rt("start", bundle.id).returncode == 0
    st = status(int(rt.state(bundle.id)["pid"]))
    assert st["Seccomp"] == "2"
    assert st["NoNewPrivs"] == "0"
    assert st["Uid"].split() == ["1000"] * 4


def test_no_seccomp_no_filter(rt, bundle):
    assert status(running(rt, bundle))["Seccomp"] == "0"


def _deny_mkdir(action: str, **extra) -> dict:
    return {"defaultAction": "SCMP_ACT_ALLOW",
            "syscalls": [{"names": ["mkdir", "mkdirat"], "action": action, **extra}]}


def _try_mkdir(rt, bundle, profile) -> tuple[int, str, str]:
    bundle.linux["seccomp"] = profile
    bundle.sh("mkdir /tmp/x; echo rc=$?").save()
    p = rt("run", "-b", bundle.path, bundle.id)
    return p.returncode, p.stdout, p.stderr


def test_errno_defaults_to_eperm(rt, bundle):
    _, out, err = _try_mkdir(rt, bundle, _deny_mkdir("SCMP_ACT_ERRNO"))
    assert "rc=1" in out and os.strerror(errno.EPERM) in err


def test_errno_ret(rt, bundle):
    _, out, err = _try_mkdir(rt, bundle, _deny_mkdir("SCMP_ACT_ERRNO", errnoRet=errno.ENOSPC))
    assert "rc=1" in out and os.strerror(errno.ENOSPC) in err


def test_default_errno_ret(rt, bundle):
    profile = docker_like(default_errno=errno.EROFS)
    allowed = profile["syscalls"][0]
    allowed["names"] = [n for n in allowed["names"] if n not in ("mkdir", "mkdirat")]
    _, out, err = _try_mkdir(rt, bundle, profile)
    assert "rc=1" in out and os.strerror(errno.EROFS) in err


@pytest.mark.parametrize("action", ["SCMP_ACT_KILL", "SCMP_ACT_KILL_THREAD",
                                    "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_TRAP"])
def test_killing_actions(rt, bundle, action):
    bundle.linux["seccomp"] = _deny_mkdir(action)
    bundle.sh("mkdir /tmp/x; echo rc=$?").save()
    p = rt("run", "-b", bundle.path, bundle.id)
    assert "rc=159" in p.stdout  # 128 + SIGSYS


def test_log_action_allows(rt, bundle):
    rootfs = bundle.own_rootfs()
    _, out, _ = _try_mkdir(rt, bundle, _deny_mkdir("SCMP_ACT_LOG"))
    assert "rc=0" in out and os.path.isdir(os.path.join(rootfs, "tmp/x"))


def test_trace_action_without_a_tracer_is_enosys(rt, bundle):
    _, out, err = _try_mkdir(rt, bundle, _deny_mkdir("SCMP_ACT_TRACE"))
    assert "rc=1" in out and os.strerror(errno.ENOSYS) in err


def test_unknown_syscall_names_are_skipped(rt, bundle):
    profile = _deny_mkdir("SCMP_ACT_ERRNO")
    profile["syscalls"].append({"names": ["no_such_syscall_anywhere"], "action": "SCMP_ACT_ERRNO"})
    _, out, err = _try_mkdir(rt, bundle, profile)
    assert "rc=1" in out and os.strerror(errno.EPERM) in err


# -- argument conditions: kill(pid, sig) with sig 0 and SIGCONT from the shell ----------
KILLS = "kill -0 $$ 2>/dev/null && echo s0=ok || echo s0=no; " \
        "kill -CONT $$ 2>/dev/null && echo cont=ok || echo cont=no"
CONT = 18  # SIGCONT on x86


@pytest.mark.parametrize("op,value,value_two,blocked", [
    ("SCMP_CMP_EQ", CONT, 0, {"cont"}),
    ("SCMP_CMP_NE", CONT, 0, {"s0"}),
    ("SCMP_CMP_LT", 10, 0, {"s0"}),
    ("SCMP_CMP_LE", CONT, 0, {"s0", "cont"}),
    ("SCMP_CMP_GE", CONT, 0, {"cont"}),
    ("SCMP_CMP_GT", 0, 0, {"cont"}),
    ("SCMP_CMP_MASKED_EQ", 0x10, 0x10, {"cont"}),
    ("SCMP_CMP_MASKED_EQ", 0x10, 0, {"s0"}),
])
def test_argument_operators(rt, bundle, op, value, value_two, blocked):
    import signal

    assert signal.SIGCONT == CONT
    arg = {"index": 1, "value": value, "op": op}
    if value_two:
        arg["valueTwo"] = value_two
    bundle.linux["seccomp"] = {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
        {"names": ["kill"], "action": "SCMP_ACT_ERRNO", "args": [arg]}]}
    out = output(rt, bundle.save(), KILLS).split()
    assert out == [f"{n}={'no' if n in blocked else 'ok'}" for n in ("s0", "cont")]


def test_conditions_on_different_arguments_all_apply(rt, bundle):
    # Blocked only for signal CONT sent to pid 1 (the shell is pid 1 here).
    bundle.linux["seccomp"] = {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
        {"names": ["kill"], "action": "SCMP_ACT_ERRNO", "args": [
            {"index": 0, "value": 1, "op": "SCMP_CMP_EQ"},
            {"index": 1, "value": CONT, "op": "SCMP_CMP_EQ"}]}]}
    out = output(rt, bundle.save(), "sleep 30 & " + KILLS +
                 "; kill -CONT $! && echo other=ok; kill $!").split()
    assert out == ["s0=ok", "cont=no", "other=ok"]


def test_conditions_on_the_same_argument_are_alternatives(rt, bundle):
    # libseccomp can't AND two tests of one argument; like runc, each is a rule.
    bundle.linux["seccomp"] = {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
        {"names": ["kill"], "action": "SCMP_ACT_ERRNO", "args": [
            {"index": 1, "value": 0, "op": "SCMP_CMP_EQ"},
            {"index": 1, "value": CONT, "op": "SCMP_CMP_EQ"}]}]}
    assert output(rt, bundle.save(), KILLS).split() == ["s0=no", "cont=no"]


# -- flags -------------------------------------------------------------------------------
@runc_lacks("seccomp flags")
@pytest.mark.parametrize("flags", [[], ["SECCOMP_FILTER_FLAG_LOG"],
                                   ["SECCOMP_FILTER_FLAG_SPEC_ALLOW"],
                                   ["SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG",
                                    "SECCOMP_FILTER_FLAG_SPEC_ALLOW"]])
def test_flags_are_accepted_by_the_kernel(rt, bundle, flags):
    _, out, err = _try_mkdir(rt, bundle, {**_deny_mkdir("SCMP_ACT_ERRNO"), "flags": flags})
    assert "rc=1" in out, err


# -- SCMP_ACT_NOTIFY ------------------------------------------------------------------------
# struct seccomp_notif: u64 id, u32 pid, u32 flags, struct seccomp_data {int nr,
# u32 arch, u64 ip, u64 args[6]}; struct seccomp_notif_resp: u64 id, s64 val,
# s32 error, u32 flags.
NOTIF = struct.Struct("=QIIiIQ6Q")
RESP = struct.Struct("=QqiI")


class Agent:
    """A seccomp agent: takes the notify fd from the runtime, then answers every
    notification by faking success (mkdir "works" but makes nothing)."""

    def __init__(self, path: str) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(path)
        self.sock.listen(1)
        self.state: dict = {}
        self.handled = 0
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        import fcntl

        try:
            conn, _ = self.sock.accept()
            with conn:
                msg, fds, _, _ = socket.recv_fds(conn, 1 << 16, 1)
                self.state = json.loads(msg)
                (fd,) = fds
            with os.fdopen(fd, "rb", buffering=0) as notify:
                while True:
                    buf = bytearray(NOTIF.size)
                    try:
                        fcntl.ioctl(notify, lib.SECCOMP_IOCTL_NOTIF_RECV, buf)
                    except OSError:
                        return  # the container is gone
                    req = NOTIF.unpack(buf)
                    resp = bytearray(RESP.pack(req[0], 0, 0, 0))
                    fcntl.ioctl(notify, lib.SECCOMP_IOCTL_NOTIF_SEND, resp)
                    self.handled += 1
        except BaseException as e:  # noqa: BLE001 - reported by the test
            self.error = e

    def close(self) -> None:
        self.sock.close()


@pytest.mark.parametrize("nnp", [True, False])
def test_notify_hands_the_fd_and_state_to_the_agent(rt, bundle, tmp_path, nnp):
    path = str(tmp_path / "agent.sock")
    agent = Agent(path)
    try:
        bundle.process["noNewPrivileges"] = nnp
        bundle.linux["seccomp"] = {
            "defaultAction": "SCMP_ACT_ALLOW", "listenerPath": path,
            "listenerMetadata": "meta-data 1",
            "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_NOTIFY"}]}
        bundle.own_rootfs()
        out = output(rt, bundle.save(), "mkdir /tmp/agent && echo made; "
                     "[ -d /tmp/agent ] || echo absent")
        agent.thread.join(timeout=10)
        assert agent.error is None, agent.error
        assert out.split() == ["made", "absent"]
        assert agent.handled == 1
        st = agent.state
        assert st["fds"] == ["seccompFd"]
        assert st["metadata"] == "meta-data 1"
        assert st["state"]["id"] == bundle.id
        assert st["state"]["status"] == "creating"
        assert st["pid"] == st["state"]["pid"] > 0
        assert st["ociVersion"]
    finally:
        agent.close()


def test_notify_agent_unreachable_fails_create(rt, bundle, tmp_path, cgroup_parent):
    from tests.security.helpers import assert_create_fails_cleanly

    bundle.linux["seccomp"] = {
        "defaultAction": "SCMP_ACT_ALLOW", "listenerPath": str(tmp_path / "nobody.sock"),
        "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_NOTIFY"}]}
    bundle.save()
    assert_create_fails_cleanly(rt, bundle, cgroup_parent, "seccomp")
