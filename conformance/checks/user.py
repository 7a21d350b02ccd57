"""process.user: uid, gid, additionalGids, umask, seen from outside in /proc/<pid>/status."""

from __future__ import annotations

import os

from conformance import procfs
from conformance.bundle import Config
from conformance.checks._common import Mutation, process
from conformance.context import Context
from conformance.registry import Level, check, expect_equal
from conformance.sabotage import breaks_config

MUST = Level.MUST
SHOULD = Level.SHOULD
USER = "config.md#configPOSIXUser"


def _user(**fields: object) -> Mutation:
    def mutate(config: Config) -> None:
        process(config)["user"] = {"uid": 0, "gid": 0, **fields}

    return mutate


def _tweak_user(**fields: object) -> Mutation:
    """A sabotage: change some user fields, keep the others as the check configured them."""

    def mutate(config: Config) -> None:
        process(config).setdefault("user", {}).update(fields)

    return mutate


def _ids(status: dict[str, str], field: str) -> list[int]:
    return [int(x) for x in status.get(field, "").split()]


@check(
    "user.uid",
    USER,
    MUST,
    "the process runs with the configured uid (real, effective, saved, fs)",
    breaks_config("uid is ignored (stays 0)", _tweak_user(uid=0)),
)
def uid(ctx: Context) -> None:
    container = ctx.running(_user(uid=1234, gid=1234))
    expect_equal(_ids(procfs.status(container.pid), "Uid"), [1234] * 4, "Uid (real eff saved fs)")


@check(
    "user.gid",
    USER,
    MUST,
    "the process runs with the configured gid (real, effective, saved, fs)",
    breaks_config("gid is ignored (stays 0)", _tweak_user(gid=0)),
)
def gid(ctx: Context) -> None:
    container = ctx.running(_user(uid=1234, gid=2345))
    expect_equal(_ids(procfs.status(container.pid), "Gid"), [2345] * 4, "Gid (real eff saved fs)")


@check(
    "user.additionalGids",
    USER,
    MUST,
    "additionalGids are the process's supplementary groups",
    breaks_config("one supplementary group is dropped", _tweak_user(additionalGids=[5])),
)
def additional_gids(ctx: Context) -> None:
    container = ctx.running(_user(uid=1234, gid=1234, additionalGids=[5, 44, 3000]))
    groups = set(_ids(procfs.status(container.pid), "Groups"))
    expect_equal(groups & {5, 44, 3000}, {5, 44, 3000}, "configured groups present")


@check(
    "user.additionalGids.exact",
    USER,
    SHOULD,
    "the supplementary groups are exactly additionalGids (no groups of the runtime leak in)",
    breaks_config("an extra group is added", _tweak_user(additionalGids=[5, 44, 0])),
)
def additional_gids_exact(ctx: Context) -> None:
    container = ctx.running(_user(uid=1234, gid=1234, additionalGids=[5, 44]))
    groups = sorted(set(_ids(procfs.status(container.pid), "Groups")))
    expect_equal(groups, [5, 44], "supplementary groups")


@check(
    "user.additionalGids.none",
    USER,
    SHOULD,
    "without additionalGids a non-root process has no supplementary groups",
    breaks_config("the runtime adds group 0", _tweak_user(additionalGids=[0])),
)
def additional_gids_none(ctx: Context) -> None:
    container = ctx.running(_user(uid=1234, gid=1234))
    groups = sorted(set(_ids(procfs.status(container.pid), "Groups")) - {1234})
    expect_equal(groups, [], "supplementary groups besides the primary gid")


@check(
    "user.umask",
    USER,
    MUST,
    "umask is the process's umask",
    breaks_config("another umask", _tweak_user(umask=0o022)),
)
def umask(ctx: Context) -> None:
    container = ctx.running(_user(umask=0o027))
    expect_equal(procfs.status(container.pid).get("Umask"), "0027", "Umask")


@check(
    "user.umask.unset",
    USER,
    SHOULD,
    "without umask the process keeps the umask of the runtime's caller",
    breaks_config("the runtime sets umask 0022", _tweak_user(umask=0o022)),
)
def umask_unset(ctx: Context) -> None:
    container = ctx.container(_user(), ["sleep", "3600"])
    container.create(prefix=["sh", "-c", 'umask 0077 && exec "$@"', "sh"])
    container.start()
    container.wait_exec()
    expect_equal(procfs.status(container.pid).get("Umask"), "0077", "Umask")


@check(
    "user.files",
    USER,
    MUST,
    "files the process creates belong to the configured uid and gid",
    breaks_config("uid and gid are ignored", _tweak_user(uid=0, gid=0)),
)
def files(ctx: Context) -> None:
    run = ctx.run("touch /out/owned", _user(uid=1234, gid=2345))
    st = os.stat(run.bundle.out / "owned")
    expect_equal((st.st_uid, st.st_gid), (1234, 2345), "owner of a file the process made")


@check(
    "user.id-inside",
    USER,
    MUST,
    "inside the container, id reports the configured uid, gid and groups",
    breaks_config("uid is ignored", _tweak_user(uid=0)),
)
def id_inside(ctx: Context) -> None:
    run = ctx.run("id -u; id -g; id -G", _user(uid=1000, gid=1001, additionalGids=[1002]))
    lines = run.stdout.split("\n")
    expect_equal(lines[:2], ["1000", "1001"], "id -u / id -g")
    expect_equal(sorted(lines[2].split()), ["1001", "1002"], "id -G")
