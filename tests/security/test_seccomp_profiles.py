"""Real-world seccomp profiles start the container, with pyrunc as with runc.

After the filter the init makes no call but the exec, so a profile only has to
allow what the container's program needs: the profile `oci-runtime-tool generate`
writes (an allow-list from before 2020 over an ERRNO default; the validation
suite's containers all carry it), Docker's default profile as dockerd writes it
into config.json, and an allow-list of what a static busybox `echo` needs and
nothing else.  Syscalls newer than the profile and not named in it fail with
ENOSYS (glibc and musl then fall back to the older call), an explicit rule wins.

The profiles are data in tests/security/data: the output of `oci-runtime-tool
generate` (runtime-tools a3a57a9) and Docker's default profile (moby's
profiles/seccomp/default.json) resolved as dockerd does for an amd64 container
with Docker's default capabilities.
"""

from __future__ import annotations

import errno
import json
import os
import subprocess
from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"

# What a static (glibc) busybox needs to start and run `echo`, found with strace,
# and the exec itself.  Nothing for the runtime: after the filter only the exec.
BUSYBOX_ECHO = ["execve", "brk", "arch_prctl", "set_tid_address", "set_robust_list", "rseq",
                "prlimit64", "mprotect", "getrandom", "readlink", "getuid", "prctl", "write",
                "exit_group"]

# runc's deviation: its init (Go) keeps working after loading the filter (closing
# fds by reading /proc/self/fd, the exec fifo, the Go runtime's own calls; without
# no_new_privs the whole user switch and look-up), so a profile must allow those too.
RUNC_INIT_AFTER_FILTER = [
    "close", "openat", "read", "fcntl", "fstat", "fstatfs", "newfstatat", "getdents64",
    "epoll_ctl", "epoll_pwait", "getpid", "getppid", "gettid", "tgkill", "futex", "nanosleep",
    "sched_yield", "mmap", "munmap", "madvise", "mincore", "clone", "rt_sigaction",
    "rt_sigprocmask", "rt_sigreturn", "sigaltstack", "chdir", "getcwd", "capget", "capset",
    "setgroups", "setresuid", "setresgid", "setuid", "setgid", "faccessat", "faccessat2",
    "pipe2",
]

SYSNO_C = r"""
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/syscall.h>
/* sysno N...: call syscall N with harmless arguments (-1: no such fd or pid),
 * print N=errno for each (0 if it succeeded). */
int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        long nr = strtol(argv[i], NULL, 10);
        long r = syscall(nr, -1L, 0L, 0L, 0L, 0L, 0L);
        printf("%ld=%d\n", nr, r < 0 ? errno : 0);
    }
    return 0;
}
"""

# x86_64 numbers: mount (old, in no profile here), close_range (older than the
# landlock calls the runtime-tools profile names), memfd_secret, process_mrelease,
# futex_waitv (newer than that profile).
NR_MOUNT, NR_CLOSE_RANGE, NR_MEMFD_SECRET, NR_PROCESS_MRELEASE, NR_FUTEX_WAITV = (
    165, 436, 447, 448, 449)


def profile(name: str) -> dict:
    return json.loads((DATA / f"{name}.json").read_text())


@pytest.fixture(scope="session")
def sysno_binary(tmp_path_factory) -> str:
    d = tmp_path_factory.mktemp("sysno")
    (d / "sysno.c").write_text(SYSNO_C)
    try:
        subprocess.run(["gcc", "-static", "-O", "-o", str(d / "sysno"), str(d / "sysno.c")],
                       check=True, capture_output=True, timeout=60)
    except (OSError, subprocess.CalledProcessError) as e:
        pytest.skip(f"cannot build a static test program: {e}")
    return str(d / "sysno")


pytestmark = pytest.mark.skipif(os.uname().machine != "x86_64",
                                reason="the profiles and syscall numbers here are x86_64's")


def _run(rt, bundle, seccomp: dict, nnp: bool, *argv: str, user: int = 0):
    bundle.linux["seccomp"] = seccomp
    bundle.process["noNewPrivileges"] = nnp
    if user:
        bundle.process["user"] = {"uid": user, "gid": user}
    bundle.args(*argv).save()
    return rt("run", "-b", bundle.path, bundle.id)


@pytest.mark.parametrize("nnp", [True, False], ids=["nnp", "no-nnp"])
@pytest.mark.parametrize("name", ["runtime_tools_generate", "docker_default"])
def test_profile_starts_the_container(any_rt, bundle, name, nnp):
    p = _run(any_rt, bundle, profile(name), nnp, "sh", "-c", "cd /tmp && echo started; id -u")
    assert p.returncode == 0, p.stderr
    assert p.stdout.split() == ["started", "0"]


@pytest.mark.parametrize("name", ["runtime_tools_generate", "docker_default"])
def test_profile_as_a_user_with_a_cwd(any_rt, bundle, name):
    # Without no_new_privs the user switch and the chdir follow the filter.
    bundle.process["cwd"] = "/tmp"
    p = _run(any_rt, bundle, profile(name), False, "sh", "-c", "pwd; id -u; id -g", user=1000)
    assert p.returncode == 0, p.stderr
    assert p.stdout.split() == ["/tmp", "1000", "1000"]


@pytest.mark.parametrize("nnp", [True, False], ids=["nnp", "no-nnp"])
@pytest.mark.parametrize("name", ["runtime_tools_generate", "docker_default"])
def test_exec_under_the_profile(any_rt, bundle, name, nnp):
    bundle.linux["seccomp"] = profile(name)
    bundle.process["noNewPrivileges"] = nnp
    bundle.args("/bin/sleep", "100").save()
    any_rt("run", "-d", "-b", bundle.path, bundle.id, check=True)
    p = any_rt("exec", "--user", "1000:1000", "--cwd", "/tmp", bundle.id,
               "sh", "-c", "pwd; id -u")
    assert p.returncode == 0, p.stderr
    assert p.stdout.split() == ["/tmp", "1000"]


@pytest.mark.parametrize("nnp", [True, False], ids=["nnp", "no-nnp"])
def test_busybox_minimal_allow_list(any_rt, bundle, nnp):
    minimal = {"defaultAction": "SCMP_ACT_ERRNO", "architectures": ["SCMP_ARCH_X86_64"],
               "syscalls": [{"names": BUSYBOX_ECHO, "action": "SCMP_ACT_ALLOW"}]}
    if not nnp:
        # Loaded before the user switch: what runc's init calls after it.
        minimal["syscalls"][0]["names"] += ["setgroups", "setresgid", "setresuid", "capset"]
    if os.path.basename(any_rt.path) == "runc":
        minimal["syscalls"][0]["names"] += RUNC_INIT_AFTER_FILTER
    p = _run(any_rt, bundle, minimal, nnp, "echo", "hello")
    assert p.returncode == 0, p.stderr
    assert p.stdout == "hello\n"


def test_busybox_allow_list_is_minimal(any_rt, bundle):
    # The control: without `write` busybox can't say anything (the list is tight).
    minimal = {"defaultAction": "SCMP_ACT_ERRNO", "architectures": ["SCMP_ARCH_X86_64"],
               "syscalls": [{"names": [n for n in BUSYBOX_ECHO if n != "write"],
                             "action": "SCMP_ACT_ALLOW"}]}
    p = _run(any_rt, bundle, minimal, True, "echo", "hello")
    assert p.stdout == ""


def _sysno(any_rt, bundle, sysno_binary: str, seccomp: dict, nnp: bool) -> dict[int, int]:
    rootfs = bundle.own_rootfs()
    with open(sysno_binary, "rb") as src, open(os.path.join(rootfs, "bin", "sysno"), "wb") as out:
        out.write(src.read())
    os.chmod(os.path.join(rootfs, "bin", "sysno"), 0o755)
    numbers = [NR_MOUNT, NR_CLOSE_RANGE, NR_MEMFD_SECRET, NR_PROCESS_MRELEASE, NR_FUTEX_WAITV]
    p = _run(any_rt, bundle, seccomp, nnp, "/bin/sysno", *map(str, numbers))
    assert p.returncode == 0, p.stderr
    return {int(k): int(v) for k, v in (line.split("=") for line in p.stdout.split())}


@pytest.mark.parametrize("nnp", [True, False], ids=["nnp", "no-nnp"])
def test_syscall_newer_than_the_profile_is_enosys(any_rt, bundle, sysno_binary, nnp):
    got = _sysno(any_rt, bundle, sysno_binary, profile("runtime_tools_generate"), nnp)
    # Up to the largest syscall the profile names, its default action (EPERM).
    assert got == {NR_MOUNT: errno.EPERM, NR_CLOSE_RANGE: errno.EPERM,
                   NR_MEMFD_SECRET: errno.ENOSYS, NR_PROCESS_MRELEASE: errno.ENOSYS,
                   NR_FUTEX_WAITV: errno.ENOSYS}


def test_explicit_rule_wins_over_enosys(any_rt, bundle, sysno_binary):
    seccomp = profile("runtime_tools_generate")
    seccomp["syscalls"].append({"names": ["process_mrelease"], "action": "SCMP_ACT_ERRNO",
                                "errnoRet": errno.EXDEV})
    got = _sysno(any_rt, bundle, sysno_binary, seccomp, True)
    # process_mrelease is named now: its rule; memfd_secret is older: the default.
    assert got == {NR_MOUNT: errno.EPERM, NR_CLOSE_RANGE: errno.EPERM,
                   NR_MEMFD_SECRET: errno.EPERM, NR_PROCESS_MRELEASE: errno.EXDEV,
                   NR_FUTEX_WAITV: errno.ENOSYS}


def test_other_default_errno_and_allow_default(any_rt, bundle, sysno_binary):
    seccomp = profile("runtime_tools_generate")
    seccomp["defaultErrnoRet"] = errno.EACCES
    got = _sysno(any_rt, bundle, sysno_binary, seccomp, True)
    assert got[NR_MOUNT] == errno.EACCES and got[NR_FUTEX_WAITV] == errno.ENOSYS
    allow = {"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64"],
             "syscalls": [{"names": ["mount"], "action": "SCMP_ACT_ERRNO"}]}
    p = _run(any_rt, bundle, allow, True, "/bin/sysno", str(NR_PROCESS_MRELEASE))
    # Allowed: the kernel's own answer to process_mrelease(-1) is EBADF.
    assert p.stdout.split() == [f"{NR_PROCESS_MRELEASE}={errno.EBADF}"], p.stderr


def test_start_container_hook_runs_under_the_filter(any_rt, bundle):
    from tests.hooks.hooklib import BUSYBOX, Recorder

    rec = Recorder(bundle)
    script = ("B=/bin/busybox; $B grep '^Seccomp:' /proc/self/status > /hooklog/status; "
              "$B mkdir /hooklog/made 2> /hooklog/err; echo $? > /hooklog/rc")
    rec.add_raw("startContainer", {"path": BUSYBOX, "args": ["sh", "-c", script]})
    bundle.linux["seccomp"] = {"defaultAction": "SCMP_ACT_ALLOW",
                               "syscalls": [{"names": ["mkdir", "mkdirat"],
                                             "action": "SCMP_ACT_ERRNO",
                                             "errnoRet": errno.EXDEV}]}
    bundle.args("true").save()
    p = any_rt("run", "-b", bundle.path, bundle.id)
    assert p.returncode == 0, p.stderr
    with open(os.path.join(rec.dir, "status")) as f:
        assert f.read().split() == ["Seccomp:", "2"]
    with open(os.path.join(rec.dir, "rc")) as f:
        assert f.read().strip() == "1"
    with open(os.path.join(rec.dir, "err")) as f:
        assert os.strerror(errno.EXDEV).lower() in f.read().lower()
    assert not os.path.exists(os.path.join(rec.dir, "made"))
