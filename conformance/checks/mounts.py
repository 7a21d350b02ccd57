"""mounts: types, bind mounts (recursive or not, relative sources), order, default filesystems,
and the /dev symlinks a Linux runtime adds."""

from __future__ import annotations

import subprocess
from pathlib import Path

from conformance import procfs
from conformance.bundle import Config
from conformance.checks._common import Mutation, add_mount, drop_mount, mount_entry
from conformance.context import Context
from conformance.registry import Level, check, expect, expect_equal, fail
from conformance.sabotage import breaks_config

MUST = Level.MUST
SHOULD = Level.SHOULD
MOUNTS = "config.md#configMounts"
POSIX_MOUNTS = "config.md#configPOSIXMounts"
DEFAULT_FS = "config-linux.md#configLinuxDefaultFilesystems"
DEV_LINKS = "runtime-linux.md#runtimeLinuxDevSymbolicLinks"


def _move_source(config: Config, destination: str) -> None:
    try:
        mount_entry(config, destination)["source"] = "not-in-bundle"
    except KeyError:
        pass


def tmpfs(destination: str, *options: str) -> dict:
    return {
        "destination": destination,
        "type": "tmpfs",
        "source": "tmpfs",
        "options": list(options),
    }


def bind(destination: str, source: str, *options: str) -> dict:
    return {"destination": destination, "type": "none", "source": source, "options": list(options)}


def _with(*mounts: dict) -> Mutation:
    def mutate(config: Config) -> None:
        for mount in mounts:
            add_mount(config, dict(mount))

    return mutate


def _without(destination: str) -> Mutation:
    return lambda config: drop_mount(config, destination)


def _set_option(destination: str, old: str, new: str | None) -> Mutation:
    """A sabotage: replace (or with None remove) one option of one mount."""

    def mutate(config: Config) -> None:
        try:
            entry = mount_entry(config, destination)
        except KeyError:
            return
        options = entry.get("options", [])
        entry["options"] = [o for o in (new if o == old else o for o in options) if o is not None]

    return mutate


def host_tree(ctx: Context) -> Path:
    """A host directory with a file and a tmpfs submount holding a file of its own."""
    top = ctx.path("tree")
    (top / "sub").mkdir(parents=True)
    (top / "top-file").write_text("top\n")
    sub = top / "sub"
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m", "cf-sub", str(sub)], capture_output=True
    )
    if mounted.returncode != 0:
        fail(f"cannot prepare a host submount: {mounted.stderr.decode().strip()}")
    ctx.on_cleanup(lambda: subprocess.run(["umount", "-l", str(sub)], capture_output=True))
    (sub / "sub-file").write_text("sub\n")
    return top


def container_mounts(ctx: Context, configure: Mutation | None) -> list[procfs.Mount]:
    return procfs.mountinfo(ctx.running(configure).pid)


def _mount(mounts: list[procfs.Mount], point: str) -> procfs.Mount:
    found = procfs.mount_at(mounts, point)
    if found is None:
        fail(f"nothing is mounted at {point}")
    return found


@check(
    "mounts.tmpfs",
    POSIX_MOUNTS,
    MUST,
    "a mount of type tmpfs appears at its destination with that type",
    breaks_config("the mount is dropped", _without("/cf-tmp")),
)
def tmpfs_type(ctx: Context) -> None:
    mounts = container_mounts(ctx, _with(tmpfs("/cf-tmp")))
    expect_equal(_mount(mounts, "/cf-tmp").fstype, "tmpfs", "type at /cf-tmp")


@check(
    "mounts.tmpfs.size",
    MOUNTS,
    MUST,
    "filesystem data options (tmpfs size=) reach the filesystem",
    breaks_config("size is changed", _set_option("/cf-tmp", "size=1m", "size=2m")),
)
def tmpfs_size(ctx: Context) -> None:
    mounts = container_mounts(ctx, _with(tmpfs("/cf-tmp", "size=1m")))
    expect_equal(_mount(mounts, "/cf-tmp").option("size"), "1024k", "tmpfs size")


@check(
    "mounts.tmpfs.mode",
    "config.md#configLinuxMountOptions",
    SHOULD,
    "unknown options go to the filesystem as data (tmpfs mode=1770)",
    breaks_config("mode is changed", _set_option("/cf-tmp", "mode=1770", "mode=755")),
)
def tmpfs_mode(ctx: Context) -> None:
    run = ctx.run("stat -c %a /cf-tmp", _with(tmpfs("/cf-tmp", "mode=1770")))
    expect_equal(run.stdout.strip(), "1770", "mode of /cf-tmp")


@check(
    "mounts.bind",
    MOUNTS,
    MUST,
    "a bind mount shows the host directory's content at the destination",
    breaks_config("the bind mount is dropped", _without("/cf-bind")),
)
def bind_content(ctx: Context) -> None:
    src = ctx.path("src")
    src.mkdir()
    (src / "hello").write_text("from the host\n")
    run = ctx.run("cat /cf-bind/hello", _with(bind("/cf-bind", str(src), "bind")))
    expect_equal(run.stdout.strip(), "from the host", "content of /cf-bind/hello")


@check(
    "mounts.bind.writes-through",
    MOUNTS,
    MUST,
    "writes to a read-write bind mount reach the host directory",
    breaks_config("the bind mount is made read-only", _set_option("/cf-bind", "rw", "ro")),
)
def bind_writes(ctx: Context) -> None:
    src = ctx.path("src")
    src.mkdir(mode=0o777)
    ctx.run("echo written > /cf-bind/new", _with(bind("/cf-bind", str(src), "bind", "rw")))
    new = src / "new"
    expect(new.exists(), "the file written in the container is not in the host directory")
    expect_equal(new.read_text().strip(), "written", "content on the host")


@check(
    "mounts.bind.relative-source",
    MOUNTS,
    MUST,
    "a relative bind source is taken relative to the bundle",
    breaks_config("the source is resolved elsewhere", lambda c: _move_source(c, "/cf-bind")),
)
def bind_relative(ctx: Context) -> None:
    container = ctx.container(_with(bind("/cf-bind", "data", "bind")), ["cat", "/cf-bind/f"])
    (container.bundle.path / "data").mkdir()
    (container.bundle.path / "data" / "f").write_text("bundle data\n")
    container.create()
    container.start()
    container.wait_exit()
    expect_equal(container.stdout().strip(), "bundle data", "content of /cf-bind/f")


@check(
    "mounts.bind.file",
    MOUNTS,
    MUST,
    "a single file can be bind mounted",
    breaks_config("the bind mount is dropped", _without("/etc/cf-file")),
)
def bind_file(ctx: Context) -> None:
    src = ctx.path("file")
    src.write_text("single file\n")
    run = ctx.run("cat /etc/cf-file", _with(bind("/etc/cf-file", str(src), "bind")))
    expect_equal(run.stdout.strip(), "single file", "content of /etc/cf-file")


@check(
    "mounts.rbind",
    "config.md#configLinuxMountOptions",
    MUST,
    "rbind also binds the mounts below the source",
    breaks_config("rbind becomes bind", _set_option("/cf-tree", "rbind", "bind")),
)
def rbind(ctx: Context) -> None:
    top = host_tree(ctx)
    run = ctx.run("cat /cf-tree/sub/sub-file", _with(bind("/cf-tree", str(top), "rbind")))
    expect_equal(run.stdout.strip(), "sub", "file of the submount")


@check(
    "mounts.bind.not-recursive",
    "config.md#configLinuxMountOptions",
    MUST,
    "bind does not bring along the mounts below the source",
    breaks_config("bind becomes rbind", _set_option("/cf-tree", "bind", "rbind")),
)
def bind_not_recursive(ctx: Context) -> None:
    top = host_tree(ctx)
    run = ctx.run(
        "cat /cf-tree/top-file; ls /cf-tree/sub", _with(bind("/cf-tree", str(top), "bind"))
    )
    expect_equal(run.stdout.split(), ["top"], "top file and (empty) sub directory")


def _reverse_mounts(config: Config) -> None:
    config["mounts"] = list(reversed(config["mounts"]))


@check(
    "mounts.order",
    MOUNTS,
    MUST,
    "mounts are made in the listed order (a later mount can sit inside an earlier one)",
    breaks_config("the mounts are made in reverse order", _reverse_mounts),
)
def order(ctx: Context) -> None:
    configure = _with(tmpfs("/cf-outer", "size=2m"), tmpfs("/cf-outer/inner", "size=1m"))
    mounts = container_mounts(ctx, configure)
    outer, inner = _mount(mounts, "/cf-outer"), _mount(mounts, "/cf-outer/inner")
    expect(outer.mount_id != inner.mount_id, "only one mount")
    expect_equal(inner.parent_id, outer.mount_id, "parent of /cf-outer/inner")
    expect_equal(inner.option("size"), "1024k", "size of the inner tmpfs")


@check(
    "mounts.destination.relative",
    MOUNTS,
    MUST,
    "a relative destination is taken relative to / of the container",
    breaks_config("the relative destination is dropped", _without("cf-relative")),
)
def destination_relative(ctx: Context) -> None:
    mounts = container_mounts(ctx, _with(tmpfs("cf-relative", "size=1m")))
    expect_equal(_mount(mounts, "/cf-relative").fstype, "tmpfs", "type at /cf-relative")


def _default_fs(point: str, fstype: str) -> None:
    def run(ctx: Context) -> None:
        mounts = container_mounts(ctx, None)
        expect_equal(_mount(mounts, point).fstype, fstype, f"type at {point}")

    check(
        f"mounts.default.{point.strip('/').replace('/', '-')}",
        DEFAULT_FS,
        SHOULD,
        f"{point} is a {fstype} filesystem when the config mounts it",
        breaks_config(f"the {point} mount is dropped", _without(point)),
    )(run)


for _point, _fstype in (
    ("/proc", "proc"),
    ("/sys", "sysfs"),
    ("/dev/pts", "devpts"),
    ("/dev/shm", "tmpfs"),
):
    _default_fs(_point, _fstype)


@check(
    "mounts.mqueue",
    POSIX_MOUNTS,
    MUST,
    "an mqueue mount has type mqueue",
    breaks_config("the mqueue mount is dropped", _without("/dev/mqueue")),
)
def mqueue(ctx: Context) -> None:
    mounts = container_mounts(ctx, None)
    expect_equal(_mount(mounts, "/dev/mqueue").fstype, "mqueue", "type at /dev/mqueue")


def _remove_in_container(path: str) -> Mutation:
    """A sabotage: a startContainer hook deletes ``path`` before the user program runs."""

    def mutate(config: Config) -> None:
        hooks = config.setdefault("hooks", {})
        hooks.setdefault("startContainer", []).append(
            {"path": "/bin/rm", "args": ["rm", "-rf", path]}
        )

    return mutate


def _dev_link(link: str, target: str) -> None:
    def run(ctx: Context) -> None:
        result = ctx.run(f"readlink {link}")
        expect_equal(result.stdout.strip(), target, f"target of {link}")

    check(
        f"mounts.dev-symlink.{link.rsplit('/', 1)[1]}",
        DEV_LINKS,
        MUST,
        f"{link} is a symlink to {target}",
        breaks_config(f"{link} is removed before the program runs", _remove_in_container(link)),
    )(run)


for _link, _target in (
    ("/dev/fd", "/proc/self/fd"),
    ("/dev/stdin", "/proc/self/fd/0"),
    ("/dev/stdout", "/proc/self/fd/1"),
    ("/dev/stderr", "/proc/self/fd/2"),
):
    _dev_link(_link, _target)
