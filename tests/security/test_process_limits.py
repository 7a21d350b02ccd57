"""process.rlimits, oomScoreAdj, noNewPrivileges, scheduler, ioPriority and
linux.personality on real containers, checked from outside."""

from __future__ import annotations

import os
import resource
import subprocess

import pytest

from runtime.native import lib
from runtime.process.parent import RLIMIT_NAMES
from tests.security.helpers import created, output, runc_lacks, running, status
from tests.support.runtime import is_pyrunc


def _limits_for_test() -> dict[str, tuple[int, int]]:
    """A (soft, hard) for every rlimit, within what this process may set (root
    here lacks CAP_SYS_RESOURCE, so hard limits can only go down)."""
    wanted = {"RLIMIT_CPU": 1000, "RLIMIT_FSIZE": 1 << 30, "RLIMIT_DATA": 1 << 33,
              "RLIMIT_STACK": 1 << 24, "RLIMIT_CORE": 1 << 20, "RLIMIT_RSS": 1 << 31,
              "RLIMIT_NPROC": 500, "RLIMIT_NOFILE": 777, "RLIMIT_MEMLOCK": 1 << 16,
              "RLIMIT_AS": 1 << 34, "RLIMIT_LOCKS": 300, "RLIMIT_SIGPENDING": 400,
              "RLIMIT_MSGQUEUE": 1 << 18, "RLIMIT_NICE": 0, "RLIMIT_RTPRIO": 0,
              "RLIMIT_RTTIME": 1 << 20}
    out = {}
    for name in RLIMIT_NAMES:
        _, hard = resource.getrlimit(getattr(lib, name))
        value = wanted[name] if hard == resource.RLIM_INFINITY else min(wanted[name], hard)
        out[name] = (value // 2, value)
    return out


def test_every_rlimit_is_set(rt, bundle):
    limits = _limits_for_test()
    bundle.process["rlimits"] = [{"type": k, "soft": s, "hard": h} for k, (s, h) in limits.items()]
    bundle.save()
    pid = running(rt, bundle)
    for name, want in limits.items():
        assert resource.prlimit(pid, getattr(lib, name)) == want, name


def test_duplicate_rlimit_type_is_refused(rt, bundle):
    """The spec's MUST.  Both entries lower the limit, so that no missing
    CAP_SYS_RESOURCE refuses the second by accident (root lacks it here)."""
    if not is_pyrunc():
        pytest.skip("runc 1.1.5 sets both entries (the spec's MUST is pyrunc's here)")
    bundle.process["rlimits"] = [{"type": "RLIMIT_CORE", "soft": 2048, "hard": 2048},
                                 {"type": "RLIMIT_CORE", "soft": 1024, "hard": 1024}]
    bundle.save()
    p = rt("create", "-b", bundle.path, bundle.id)
    assert p.returncode != 0
    assert "duplicate rlimit type RLIMIT_CORE" in p.stderr, p.stderr
    assert bundle.id not in rt.ids()


def test_rlimits_are_in_place_before_exec(rt, bundle):
    bundle.process["rlimits"] = [{"type": "RLIMIT_NOFILE", "soft": 321, "hard": 654}]
    bundle.save()
    assert resource.prlimit(created(rt, bundle), resource.RLIMIT_NOFILE) == (321, 654)


def test_unlimited_rlimit(rt, bundle):
    inf = 2**64 - 1
    _, hard = resource.getrlimit(resource.RLIMIT_CORE)
    if hard != resource.RLIM_INFINITY:
        pytest.skip("this process's RLIMIT_CORE hard limit is finite")
    bundle.process["rlimits"] = [{"type": "RLIMIT_CORE", "soft": inf, "hard": inf}]
    bundle.save()
    pid = running(rt, bundle)
    assert resource.prlimit(pid, resource.RLIMIT_CORE) == (resource.RLIM_INFINITY,) * 2


def test_rlimit_seen_inside(rt, bundle):
    bundle.process["rlimits"] = [{"type": "RLIMIT_NOFILE", "soft": 100, "hard": 200}]
    assert output(rt, bundle.save(), "ulimit -n; ulimit -H -n").split() == ["100", "200"]


def test_oom_score_adj(rt, bundle):
    bundle.process["oomScoreAdj"] = 500
    bundle.save()
    with open(f"/proc/{running(rt, bundle)}/oom_score_adj") as f:
        assert f.read().strip() == "500"


@pytest.mark.parametrize("nnp", [True, False])
def test_no_new_privileges(rt, bundle, nnp):
    bundle.process["noNewPrivileges"] = nnp
    bundle.save()
    assert status(running(rt, bundle))["NoNewPrivs"] == ("1" if nnp else "0")


@runc_lacks("linux.personality")
def test_personality_linux32(rt, bundle):
    bundle.linux["personality"] = {"domain": "LINUX32"}
    assert output(rt, bundle.save(), "uname -m").strip() in ("i686", "i386", "armv8l")
    with open(f"/proc/{running(rt, bundle)}/personality") as f:
        assert int(f.read(), 16) == 0x0008  # PER_LINUX32


def _stat_fields(pid: int) -> list[str]:
    with open(f"/proc/{pid}/stat") as f:
        return f.read().rsplit(")", 1)[1].split()  # fields from 3 (state) on


@runc_lacks("process.scheduler")
@pytest.mark.parametrize("policy,number,nice", [("SCHED_BATCH", 3, 7), ("SCHED_IDLE", 5, 0),
                                                ("SCHED_OTHER", 0, 4)])
def test_scheduler(rt, bundle, policy, number, nice):
    bundle.process["scheduler"] = {"policy": policy, "nice": nice}
    bundle.save()
    fields = _stat_fields(running(rt, bundle))
    assert int(fields[41 - 3]) == number  # policy
    assert int(fields[19 - 3]) == nice


def test_negative_scheduler_priority_is_refused(rt, bundle):
    """Found by the schema fuzzer: an int32 in the schema, an unsigned field in the
    kernel's sched_attr: one clear line, nothing left."""
    if not is_pyrunc():
        pytest.skip("runc 1.1.5 has no process.scheduler")
    bundle.process["scheduler"] = {"policy": "SCHED_FIFO", "priority": -1}
    bundle.save()
    p = rt("create", "-b", bundle.path, bundle.id)
    assert p.returncode != 0
    assert "invalid scheduler.priority: -1" in p.stderr and "internal error" not in p.stderr
    assert bundle.id not in rt.ids()


@runc_lacks("process.ioPriority")
@pytest.mark.parametrize("cls,prio,shown", [("IOPRIO_CLASS_BE", 3, "best-effort: prio 3"),
                                            ("IOPRIO_CLASS_IDLE", 0, "idle")])
def test_io_priority(rt, bundle, cls, prio, shown):
    bundle.process["ioPriority"] = {"class": cls, "priority": prio}
    bundle.save()
    pid = running(rt, bundle)
    out = subprocess.run(["ionice", "-p", str(pid)], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == shown


def test_exec_cpu_affinity_leaves_the_init_alone(rt, bundle):
    # The spec: execCPUAffinity is for processes `exec` starts, not the init.
    mine = os.sched_getaffinity(0)
    if len(mine) < 2:
        pytest.skip("needs two CPUs to tell a pinned process from a free one")
    first = str(min(mine))
    bundle.process["execCPUAffinity"] = {"initial": first, "final": first}
    assert os.sched_getaffinity(running(rt, bundle.save())) == mine
