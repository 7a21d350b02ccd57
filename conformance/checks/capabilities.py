"""process.capabilities: the five sets, compared with /proc/<pid>/status after the exec.

The kernel recomputes permitted/effective at execve: for a plain binary, a root process ends with
permitted = effective = bounding | inheritable, a non-root one with permitted = effective =
ambient. The configs below are chosen so that the sets the spec asks for are exactly what a
correct runtime leaves visible after the exec.
"""

from __future__ import annotations

from conformance import procfs
from conformance.bundle import Config
from conformance.checks._common import Mutation, breaks_create, process
from conformance.context import Context
from conformance.registry import Level, check, expect, expect_equal
from conformance.sabotage import breaks_config

MUST = Level.MUST
SHOULD = Level.SHOULD
CAPS = "config.md#configLinuxProcess"

BOUNDING = ["CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_AUDIT_WRITE"]
KEPT = ["CAP_KILL", "CAP_NET_BIND_SERVICE"]  # permitted = effective = inheritable = ambient


def _non_root(config: Config) -> None:
    proc = process(config)
    proc["user"] = {"uid": 1000, "gid": 1000}
    proc["capabilities"] = {
        "bounding": list(BOUNDING),
        "permitted": list(KEPT),
        "effective": list(KEPT),
        "inheritable": list(KEPT),
        "ambient": list(KEPT),
    }


def _drop(set_name: str, cap: str) -> Mutation:
    def mutate(config: Config) -> None:
        caps = process(config).get("capabilities", {})
        caps[set_name] = [c for c in caps.get(set_name, []) if c != cap]

    return mutate


def _add(set_name: str, cap: str) -> Mutation:
    def mutate(config: Config) -> None:
        caps = process(config).setdefault("capabilities", {})
        caps.setdefault(set_name, []).append(cap)

    return mutate


def _sets(ctx: Context, configure: Mutation) -> dict[str, set[str]]:
    return procfs.capabilities(ctx.running(configure).pid)


@check(
    "capabilities.bounding",
    CAPS,
    MUST,
    "the bounding set is exactly capabilities.bounding (CapBnd)",
    breaks_config("a bounding capability is dropped", _drop("bounding", "CAP_AUDIT_WRITE")),
)
def bounding(ctx: Context) -> None:
    expect_equal(_sets(ctx, _non_root)["bounding"], set(BOUNDING), "CapBnd")


@check(
    "capabilities.permitted",
    CAPS,
    MUST,
    "the permitted set is capabilities.permitted (CapPrm, non-root with ambient)",
    breaks_config("a permitted capability is dropped", _drop("permitted", "CAP_KILL")),
)
def permitted(ctx: Context) -> None:
    expect_equal(_sets(ctx, _non_root)["permitted"], set(KEPT), "CapPrm")


@check(
    "capabilities.effective",
    CAPS,
    MUST,
    "the effective set is capabilities.effective (CapEff, non-root with ambient)",
    breaks_config(
        "an effective capability the process may not have is added",
        _add("effective", "CAP_SYS_CHROOT"),
    ),
)
def effective(ctx: Context) -> None:
    expect_equal(_sets(ctx, _non_root)["effective"], set(KEPT), "CapEff")


@check(
    "capabilities.inheritable",
    CAPS,
    MUST,
    "the inheritable set is exactly capabilities.inheritable (CapInh)",
    breaks_config("an inheritable capability is added", _add("inheritable", "CAP_CHOWN")),
)
def inheritable(ctx: Context) -> None:
    expect_equal(_sets(ctx, _non_root)["inheritable"], set(KEPT), "CapInh")


@check(
    "capabilities.ambient",
    CAPS,
    MUST,
    "the ambient set is exactly capabilities.ambient (CapAmb)",
    breaks_config("an ambient capability is dropped", _drop("ambient", "CAP_KILL")),
)
def ambient(ctx: Context) -> None:
    expect_equal(_sets(ctx, _non_root)["ambient"], set(KEPT), "CapAmb")


@check(
    "capabilities.root",
    CAPS,
    MUST,
    "a root process keeps exactly its bounding set (CapBnd, CapPrm, CapEff) and no ambient",
    breaks_config(
        "CAP_SYS_ADMIN is added to every set",
        lambda c: (
            [_add(s, "CAP_SYS_ADMIN")(c) for s in ("bounding", "permitted", "effective")] and None
        ),
    ),
)
def root(ctx: Context) -> None:
    def setup(config: Config) -> None:
        process(config)["capabilities"] = {
            "bounding": list(BOUNDING),
            "permitted": list(BOUNDING),
            "effective": list(BOUNDING),
        }

    sets = _sets(ctx, setup)
    for name in ("bounding", "permitted", "effective"):
        expect_equal(sets[name], set(BOUNDING), name)
    expect_equal(sets["ambient"], set(), "ambient")
    expect_equal(sets["inheritable"], set(), "inheritable")


@check(
    "capabilities.none",
    CAPS,
    MUST,
    "empty capability sets leave a root process without any capability",
    breaks_config(
        "CAP_SYS_ADMIN is kept",
        lambda c: (
            [_add(s, "CAP_SYS_ADMIN")(c) for s in ("bounding", "permitted", "effective")] and None
        ),
    ),
)
def none(ctx: Context) -> None:
    def setup(config: Config) -> None:
        process(config)["capabilities"] = {
            "bounding": [],
            "permitted": [],
            "effective": [],
            "inheritable": [],
            "ambient": [],
        }

    sets = _sets(ctx, setup)
    held = {name: caps for name, caps in sets.items() if caps}
    expect(not held, f"capabilities held with all sets empty: {held}")


@check(
    "capabilities.enforced",
    CAPS,
    MUST,
    "a root process without CAP_CHOWN cannot chown (the kernel enforces the sets)",
    breaks_config(
        "CAP_CHOWN is granted",
        lambda c: (
            [_add(s, "CAP_CHOWN")(c) for s in ("bounding", "permitted", "effective")] and None
        ),
    ),
)
def enforced(ctx: Context) -> None:
    def setup(config: Config) -> None:
        caps = [c for c in BOUNDING if c != "CAP_CHOWN"]
        process(config)["capabilities"] = {
            "bounding": list(caps),
            "permitted": list(caps),
            "effective": list(caps),
        }

    run = ctx.run("touch /tmp/f; chown 1:1 /tmp/f 2>&1; echo rc=$?", setup)
    expect("rc=0" not in run.stdout, f"chown succeeded without CAP_CHOWN: {run.stdout.strip()}")
    expect("Operation not permitted" in run.stdout, f"unexpected chown error: {run.stdout!r}")


@check(
    "capabilities.unknown",
    CAPS,
    SHOULD,
    "a capability the runtime cannot map is a warning, not an error",
    breaks_create("the runtime rejects the config"),
)
def unknown(ctx: Context) -> None:
    def setup(config: Config) -> None:
        caps = process(config)["capabilities"]
        for name in ("bounding", "permitted", "effective"):
            caps[name].append("CAP_CONFORMANCE_UNKNOWN")

    run = ctx.run("echo ok", setup)
    expect_equal(run.stdout.strip(), "ok", "output")
