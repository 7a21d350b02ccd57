"""process.scheduler, process.ioPriority and process.execCPUAffinity -> plan operations.

Validation follows runc's (same limits, same wording); every number comes from
the kernel headers through the extension.
"""

from __future__ import annotations

import os

from runtime.errors import PyruncError
from runtime.native import ffi, lib
from runtime.native.plan import Plan

_FLAGS = {
    "SCHED_FLAG_RESET_ON_FORK": lib.SCHED_FLAG_RESET_ON_FORK,
    "SCHED_FLAG_RECLAIM": lib.SCHED_FLAG_RECLAIM,
    "SCHED_FLAG_DL_OVERRUN": lib.SCHED_FLAG_DL_OVERRUN,
    "SCHED_FLAG_KEEP_POLICY": lib.SCHED_FLAG_KEEP_POLICY,
    "SCHED_FLAG_KEEP_PARAMS": lib.SCHED_FLAG_KEEP_PARAMS,
    "SCHED_FLAG_UTIL_CLAMP_MIN": lib.SCHED_FLAG_UTIL_CLAMP_MIN,
    "SCHED_FLAG_UTIL_CLAMP_MAX": lib.SCHED_FLAG_UTIL_CLAMP_MAX,
}
# SCHED_ISO is in the spec but no Linux kernel implements it (no header defines it).
_POLICIES = {
    "SCHED_OTHER": lib.SCHED_OTHER,
    "SCHED_FIFO": lib.SCHED_FIFO,
    "SCHED_RR": lib.SCHED_RR,
    "SCHED_BATCH": lib.SCHED_BATCH,
    "SCHED_IDLE": lib.SCHED_IDLE,
    "SCHED_DEADLINE": lib.SCHED_DEADLINE,
}
_IO_CLASSES = {
    "IOPRIO_CLASS_RT": lib.IOPRIO_CLASS_RT,
    "IOPRIO_CLASS_BE": lib.IOPRIO_CLASS_BE,
    "IOPRIO_CLASS_IDLE": lib.IOPRIO_CLASS_IDLE,
}


def check_scheduler(s: dict) -> None:
    policy = s.get("policy") or ""
    if not policy:
        raise PyruncError("scheduler policy is required")
    nice = int(s.get("nice", 0))
    if policy in ("SCHED_OTHER", "SCHED_BATCH") and not -20 <= nice <= 19:
        raise PyruncError(f"invalid scheduler.nice: {nice} when scheduler.policy is {policy}")
    if int(s.get("priority", 0)) < 0:  # the kernel's sched_priority is unsigned
        raise PyruncError(f"invalid scheduler.priority: {s['priority']}")
    if s.get("priority", 0) != 0 and policy not in ("SCHED_FIFO", "SCHED_RR"):
        raise PyruncError("scheduler.priority can only be specified for SchedFIFO or SchedRR "
                          "policy")
    if policy != "SCHED_DEADLINE" and any(s.get(k, 0) for k in ("runtime", "deadline", "period")):
        raise PyruncError("scheduler runtime/deadline/period can only be specified for "
                          "SchedDeadline policy")
    if policy not in _POLICIES:
        raise PyruncError(f"scheduler policy {policy} is not supported by this kernel")
    for flag in s.get("flags") or []:
        if flag not in _FLAGS:
            raise PyruncError(f"invalid scheduler flag: {flag}")


def add_process(plan: Plan, process: dict) -> None:
    """process.scheduler, then process.ioPriority, where configured (the init's
    plan and exec's: import this module only when one of them is)."""
    if "scheduler" in process:
        add_scheduler(plan, process["scheduler"])
    if "ioPriority" in process:
        add_io_priority(plan, process["ioPriority"])


def add_scheduler(plan: Plan, s: dict) -> None:
    attr = ffi.new("struct sched_attr *")
    attr.size = ffi.sizeof("struct sched_attr")
    attr.sched_policy = _POLICIES[s["policy"]]
    attr.sched_nice = int(s.get("nice", 0))
    attr.sched_priority = int(s.get("priority", 0))
    attr.sched_runtime = int(s.get("runtime", 0))
    attr.sched_deadline = int(s.get("deadline", 0))
    attr.sched_period = int(s.get("period", 0))
    flags = 0
    for flag in s.get("flags") or []:
        flags |= _FLAGS[flag]
    attr.sched_flags = flags
    data = bytes(ffi.buffer(attr))
    plan.add(lib.OP_SCHED_SETATTR, f"set scheduler {s['policy']}", data=data, count=len(data))


def check_io_priority(p: dict) -> None:
    priority = int(p.get("priority", 0))
    if not 0 <= priority <= 7:
        raise PyruncError(f"invalid ioPriority.Priority: {priority}")
    if p.get("class") not in _IO_CLASSES:
        raise PyruncError(f'invalid ioPriority.Class: "{p.get("class", "")}"')


def add_io_priority(plan: Plan, p: dict) -> None:
    # As runc: for the process group (the init's own after setsid), who=0.
    value = (_IO_CLASSES[p["class"]] << lib.IOPRIO_CLASS_SHIFT) | int(p.get("priority", 0))
    plan.add(lib.OP_IOPRIO_SET, f"set io priority {p['class']} {p.get('priority', 0)}",
             n=(lib.IOPRIO_WHO_PGRP, 0, value))


def parse_cpus(text: str) -> set[int]:
    """A cpuset list ("0-3,7") -> CPU numbers; ValueError if malformed."""
    cpus: set[int] = set()
    for part in text.split(","):
        part = part.strip()
        if not part:
            raise ValueError("empty element")
        lo, sep, hi = part.partition("-")
        first, last = int(lo), int(hi) if sep else int(lo)
        if first < 0 or last < first:
            raise ValueError(f"invalid range {part!r}")
        cpus.update(range(first, last + 1))
    return cpus


def check_affinity(aff: dict) -> dict[str, set[int]]:
    """process.execCPUAffinity -> {"initial"/"final": cpus}; runc's wording on errors."""
    out = {}
    for key, name in (("initial", "Initial"), ("final", "Final")):
        text = aff.get(key)
        if not text:
            continue
        try:
            out[key] = parse_cpus(text)
        except ValueError as e:
            raise PyruncError(f"bad CPUAffinity.{name}: {e}") from None
    return out


def cpu_mask(cpus: set[int]) -> bytes:
    """The kernel's cpumask layout: bit N of the little-endian word array = CPU N."""
    nbytes = max(8, (max(cpus) // 64 + 1) * 8)
    value = 0
    for c in cpus:
        value |= 1 << c
    return value.to_bytes(nbytes, "little")


def add_affinity(plan: Plan, cpus: set[int]) -> None:
    """Pin the process before execve (execCPUAffinity.initial, for `exec`)."""
    data = cpu_mask(cpus)
    plan.add(lib.OP_SCHED_SETAFFINITY, "set the initial CPU affinity", data=data, count=len(data))


def set_affinity(pid: int, cpus: set[int]) -> None:
    """Pin a running process from outside (execCPUAffinity.final, after the exec)."""
    try:
        os.sched_setaffinity(pid, cpus)
    except OSError as e:
        raise PyruncError(f"error setting final CPU affinity: {e.strerror}") from None
