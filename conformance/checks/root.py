"""root: the root filesystem path, root.readonly and rootfsPropagation."""

from __future__ import annotations

import secrets
import shutil
import subprocess
from pathlib import Path

from conformance import procfs
from conformance.bundle import OUT_DIR, Config
from conformance.checks._common import MUST_NOT_EXIST, Mutation, drop_mount, linux, wait_for
from conformance.context import SLEEP_ARGS, Container, Context
from conformance.registry import Level, check, expect, expect_equal, fail
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


# -- rootfsPropagation ---------------------------------------------------------------------------

PROPAGATION = "config-linux.md#configLinuxRootfsMountPropagation"


def _shared_rootfs(ctx: Context, container: Container) -> Path:
    """Make the bundle's rootfs a shared mount on the host, so propagation can be observed."""
    rootfs = container.bundle.rootfs
    for argv in (
        ["mount", "--bind", str(rootfs), str(rootfs)],
        ["mount", "--make-shared", str(rootfs)],
    ):
        done = subprocess.run(argv, capture_output=True, text=True)
        if done.returncode != 0:
            fail(f"cannot prepare a shared rootfs: {done.stderr.strip()}")
    ctx.on_cleanup(lambda: subprocess.run(["umount", "-R", "-l", str(rootfs)], capture_output=True))
    return rootfs


def _propagated(ctx: Context, value: str) -> tuple[procfs.Mount, bool]:
    """The container's / mount, and whether a host mount made later under the rootfs showed up."""

    def configure(config: Config) -> None:
        linux(config)["rootfsPropagation"] = value
        # Nothing else is bound in: this is about the root alone (an unbindable root tree
        # refuses later bind mounts from below it).
        drop_mount(config, OUT_DIR)

    container = ctx.container(configure, SLEEP_ARGS)
    rootfs = _shared_rootfs(ctx, container)
    container.create()
    container.start()
    container.wait_exec()
    late = rootfs / "mnt"
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m", "cf-late", str(late)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        fail(f"cannot mount on the host under the rootfs: {done.stderr.strip()}")
    ctx.on_cleanup(lambda: subprocess.run(["umount", "-l", str(late)], capture_output=True))
    mounts = procfs.mountinfo(container.pid)
    root = procfs.mount_at(mounts, "/")
    if root is None:
        fail("the container has no / in its mountinfo")
    seen = wait_for(
        lambda: procfs.mount_at(procfs.mountinfo(container.pid), "/mnt") is not None, 0.5
    )
    return root, seen


def _change_propagation(value: str) -> Mutation:
    return lambda config: linux(config).__setitem__("rootfsPropagation", value)


@check(
    "root.propagation.shared",
    PROPAGATION,
    MUST,
    "rootfsPropagation shared makes the container's / a shared mount",
    breaks_config("private instead", _change_propagation("private")),
)
def propagation_shared(ctx: Context) -> None:
    root, _ = _propagated(ctx, "shared")
    expect("shared" in root.propagation(), f"/ propagation fields: {root.optional}")


@check(
    "root.propagation.slave",
    PROPAGATION,
    MUST,
    "rootfsPropagation slave: mounts made on the host under the rootfs appear in the container",
    breaks_config("private instead", _change_propagation("private")),
)
def propagation_slave(ctx: Context) -> None:
    root, seen = _propagated(ctx, "slave")
    expect(seen, "a host mount under the rootfs did not reach the container")
    expect("master" in root.propagation(), f"/ propagation fields: {root.optional}")


# A poststart hook that mounts a tmpfs at /mnt inside the container: what a leak would look like.
_LEAK_MOUNT = (
    "pid=$(/bin/busybox sed -n 's/.*\"pid\": *\\([0-9][0-9]*\\).*/\\1/p'); "
    'exec /bin/busybox nsenter -t "$pid" -m /bin/busybox mount -t tmpfs cf-leak /mnt'
)


def _leak_into_container(config: Config) -> None:
    config.setdefault("hooks", {}).setdefault("poststart", []).append(
        {"path": "/bin/busybox", "args": ["sh", "-c", _LEAK_MOUNT]}
    )


@check(
    "root.propagation.private",
    PROPAGATION,
    MUST,
    "rootfsPropagation private: mounts made on the host under the rootfs stay out",
    breaks_config("a mount shows up at /mnt in the container", _leak_into_container),
)
def propagation_private(ctx: Context) -> None:
    root, seen = _propagated(ctx, "private")
    expect(not seen, "a host mount under the rootfs reached the container")
    expect(not root.propagation(), f"/ propagation fields: {root.optional}")


@check(
    "root.propagation.unbindable",
    PROPAGATION,
    MUST,
    "rootfsPropagation unbindable makes the container's / unbindable",
    breaks_config("private instead", _change_propagation("private")),
)
def propagation_unbindable(ctx: Context) -> None:
    root, seen = _propagated(ctx, "unbindable")
    expect("unbindable" in root.propagation(), f"/ propagation fields: {root.optional}")
    expect(not seen, "a host mount under the rootfs reached the container")
