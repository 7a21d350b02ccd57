"""process.rlimits: soft and hard limits as /proc/<pid>/limits shows them; invalid entries."""

from __future__ import annotations

import resource

from conformance import procfs
from conformance.bundle import Config
from conformance.checks._common import Mutation, process
from conformance.context import Context
from conformance.registry import Level, check, expect_equal, skip
from conformance.sabotage import breaks_config

MUST = Level.MUST
RLIMITS = "config.md#configPOSIXProcess"


def _ceiling(name: str) -> int:
    """Our own hard limit: without CAP_SYS_RESOURCE a runtime cannot go above it."""
    hard = resource.getrlimit(getattr(resource, name))[1]
    return procfs.UNLIMITED if hard == resource.RLIM_INFINITY else hard


def _pick(name: str, soft: int, hard: int) -> tuple[int, int]:
    ceiling = _ceiling(name)
    if ceiling < 2:
        skip(f"the runtime's own hard {name} is {ceiling}; nothing lower to set")
    hard = min(hard, ceiling)
    return min(soft, hard), hard


def _rlimits(*entries: tuple[str, int, int]) -> Mutation:
    def mutate(config: Config) -> None:
        process(config)["rlimits"] = [
            {"type": name, "soft": soft, "hard": hard} for name, soft, hard in entries
        ]

    return mutate


def _shift(name: str, field: str) -> Mutation:
    """A sabotage: lower one value of one rlimit so the configured one is not what applies."""

    def mutate(config: Config) -> None:
        for entry in process(config).get("rlimits", []):
            if entry["type"] == name:
                entry[field] = max(0, entry[field] - 1)
                entry["soft"] = min(entry["soft"], entry["hard"])

    return mutate


def _limit_check(name: str, soft: int, hard: int) -> None:
    def run(ctx: Context) -> None:
        want = _pick(name, soft, hard)
        container = ctx.running(_rlimits((name, *want)))
        expect_equal(procfs.limits(container.pid).get(name), want, f"{name} (soft, hard)")

    check(
        f"rlimits.{name.removeprefix('RLIMIT_').lower()}",
        RLIMITS,
        MUST,
        f"{name} soft and hard limits are set as configured (getrlimit matches)",
        breaks_config(f"{name} soft limit is changed", _shift(name, "soft")),
    )(run)


for _name, _soft, _hard in (
    ("RLIMIT_CORE", 4096, 8192),
    ("RLIMIT_NPROC", 300, 400),
    ("RLIMIT_MSGQUEUE", 65536, 131072),
    ("RLIMIT_MEMLOCK", 65536, 131072),
    ("RLIMIT_FSIZE", 1 << 30, 1 << 31),
    ("RLIMIT_SIGPENDING", 500, 600),
    ("RLIMIT_STACK", 4 << 20, 16 << 20),
    ("RLIMIT_CPU", 3000, 3600),
):
    _limit_check(_name, _soft, _hard)


@check(
    "rlimits.nofile.soft",
    RLIMITS,
    MUST,
    "RLIMIT_NOFILE soft limit (rlim_cur) matches the configured soft value",
    breaks_config("the soft limit is changed", _shift("RLIMIT_NOFILE", "soft")),
)
def nofile_soft(ctx: Context) -> None:
    soft, hard = _pick("RLIMIT_NOFILE", 777, 1555)
    container = ctx.running(_rlimits(("RLIMIT_NOFILE", soft, hard)))
    expect_equal(procfs.limits(container.pid)["RLIMIT_NOFILE"][0], soft, "soft NOFILE")


@check(
    "rlimits.nofile.hard",
    RLIMITS,
    MUST,
    "RLIMIT_NOFILE hard limit (rlim_max) matches the configured hard value",
    breaks_config("the hard limit is changed", _shift("RLIMIT_NOFILE", "hard")),
)
def nofile_hard(ctx: Context) -> None:
    soft, hard = _pick("RLIMIT_NOFILE", 777, 1555)
    container = ctx.running(_rlimits(("RLIMIT_NOFILE", soft, hard)))
    expect_equal(procfs.limits(container.pid)["RLIMIT_NOFILE"][1], hard, "hard NOFILE")


@check(
    "rlimits.invalid-type",
    RLIMITS,
    MUST,
    "an rlimit type that maps to no kernel resource is an error",
    breaks_config(
        "the runtime drops the unknown rlimit",
        lambda c: process(c).__setitem__(
            "rlimits", [r for r in process(c).get("rlimits", []) if r["type"] != "RLIMIT_BOGUS"]
        ),
    ),
)
def invalid_type(ctx: Context) -> None:
    ctx.create_fails(_rlimits(("RLIMIT_BOGUS", 1, 1)), "rlimit type RLIMIT_BOGUS")


def _dedupe(config: Config) -> None:
    seen: set[str] = set()
    kept = []
    for entry in process(config).get("rlimits", []):
        if entry["type"] not in seen:
            seen.add(entry["type"])
            kept.append(entry)
    process(config)["rlimits"] = kept


@check(
    "rlimits.duplicate",
    RLIMITS,
    MUST,
    "two rlimits entries of the same type are an error",
    breaks_config("the runtime keeps the first of the duplicates", _dedupe),
)
def duplicate(ctx: Context) -> None:
    ctx.create_fails(
        _rlimits(("RLIMIT_CORE", 1024, 1024), ("RLIMIT_CORE", 2048, 2048)),
        "two RLIMIT_CORE entries",
    )
