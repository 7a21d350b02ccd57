"""root: the root filesystem path (relative, absolute, missing) and root.readonly."""

from __future__ import annotations

import secrets
import shutil

from conformance.bundle import Config
from conformance.checks._common import MUST_NOT_EXIST, Mutation
from conformance.context import Context
from conformance.registry import Level, check, expect, expect_equal
from conformance.sabotage import breaks_config

MUST = Level.MUST
ROOT = "config.md#configRoot"


def _root(**fields: object) -> Mutation:
    def mutate(config: Config) -> None:
        config["root"].update(fields)

    return mutate


@check(
    "root.path.relative",
    ROOT,
    MUST,
    "a relative root.path is taken relative to the bundle",
    breaks_config("root.path points elsewhere", _root(path=MUST_NOT_EXIST)),
)
def path_relative(ctx: Context) -> None:
    token = secrets.token_hex(4)
    container = ctx.container(_root(path="rootfs"), args=["cat", "/etc/cf-token"])
    (container.bundle.rootfs / "etc" / "cf-token").write_text(token)
    container.create()
    container.start()
    container.wait_exit()
    expect_equal(container.stdout().strip(), token, "content of the bundle rootfs's marker")


@check(
    "root.path.absolute",
    ROOT,
    MUST,
    "an absolute root.path is used as the root filesystem",
    breaks_config("the runtime uses the bundle's rootfs instead", _root(path="rootfs")),
)
def path_absolute(ctx: Context) -> None:
    elsewhere = ctx.path("elsewhere-rootfs")
    container = ctx.container(_root(path=str(elsewhere)), args=["cat", "/etc/cf-token"])
    shutil.copytree(container.bundle.rootfs, elsewhere, symlinks=True)
    (container.bundle.rootfs / "etc" / "cf-token").write_text("bundle rootfs")
    (elsewhere / "etc" / "cf-token").write_text("absolute rootfs")
    container.create()
    container.start()
    container.wait_exit()
    expect_equal(container.stdout().strip(), "absolute rootfs", "marker seen by the container")


@check(
    "root.path.missing",
    ROOT,
    MUST,
    "a root.path that is not a directory is an error",
    breaks_config("the runtime falls back to the bundle rootfs", _root(path="rootfs")),
)
def path_missing(ctx: Context) -> None:
    ctx.create_fails(_root(path="no-such-rootfs"), "a missing root directory")


@check(
    "root.readonly",
    ROOT,
    MUST,
    "root.readonly true makes the root filesystem read-only in the container",
    breaks_config("readonly is ignored", _root(readonly=False)),
)
def readonly(ctx: Context) -> None:
    run = ctx.run("touch /cf-write-test 2>&1; echo rc=$?", _root(readonly=True))
    expect("rc=0" not in run.stdout, "writing to / succeeded on a read-only root")
    expect("Read-only file system" in run.stdout, f"unexpected error: {run.stdout.strip()!r}")


@check(
    "root.readonly.false",
    ROOT,
    MUST,
    "root.readonly false (the default) leaves the root filesystem writable",
    breaks_config("the root is made read-only", _root(readonly=True)),
)
def writable(ctx: Context) -> None:
    run = ctx.run("touch /cf-write-test 2>&1; echo rc=$?", _root(readonly=False))
    expect_equal(run.stdout.strip(), "rc=0", "writing to /")
    expect((run.bundle.rootfs / "cf-write-test").exists(), "the file did not land in the rootfs")
