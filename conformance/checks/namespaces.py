"""linux.namespaces: new, inherited and joined namespaces compared through /proc/<pid>/ns links,
what each namespace isolates, user namespace mappings and time offsets."""

from __future__ import annotations

import os
import socket
import subprocess

from conformance import procfs
from conformance.bundle import Config
from conformance.checks._common import (
    Mutation,
    add_mount,
    add_namespace,
    drop_namespace,
    linux,
    namespaces,
)
from conformance.context import Context
from conformance.registry import Level, check, expect, expect_equal, fail
from conformance.sabotage import breaks_bundle, breaks_config

MUST = Level.MUST
SHOULD = Level.SHOULD
NAMESPACES = "config-linux.md#configLinuxNamespaces"
MAPPINGS = "config-linux.md#configLinuxUserNamespaceMappings"
TIME_OFFSETS = "config-linux.md#configLinuxTimeOffset"

# Spec namespace type -> name of its link in /proc/<pid>/ns.
PROC_NAME = {
    "pid": "pid",
    "network": "net",
    "ipc": "ipc",
    "uts": "uts",
    "mount": "mnt",
    "cgroup": "cgroup",
    "user": "user",
    "time": "time",
}

HOST_ID = 100000
MAP_SIZE = 65536


def userns(config: Config, host_id: int = HOST_ID) -> None:
    add_namespace(config, "user")
    linux(config)["uidMappings"] = [{"containerID": 0, "hostID": host_id, "size": MAP_SIZE}]
    linux(config)["gidMappings"] = [{"containerID": 0, "hostID": host_id, "size": MAP_SIZE}]


def _no_userns(config: Config) -> None:
    drop_namespace(config, "user")
    linux(config).pop("uidMappings", None)
    linux(config).pop("gidMappings", None)


def _timens(config: Config) -> None:
    add_namespace(config, "time")


def _new(ns_type: str) -> Mutation:
    if ns_type == "user":
        return userns
    return lambda config: add_namespace(config, ns_type)


def _link(pid: int, ns_type: str) -> str:
    return procfs.ns_link(pid, PROC_NAME[ns_type])


def _host(ns_type: str) -> str:
    return procfs.ns_link("self", PROC_NAME[ns_type])


def _check_new(ns_type: str) -> None:
    level = SHOULD if ns_type == "time" else MUST

    def run(ctx: Context) -> None:
        container = ctx.running(_new(ns_type))
        link = _link(container.pid, ns_type)
        expect(link != _host(ns_type), f"the container shares the runtime's {ns_type} namespace")

    sabotage = (
        breaks_config("the user namespace is left out", _no_userns)
        if ns_type == "user"
        else breaks_config(
            f"the {ns_type} namespace is left out", lambda c: drop_namespace(c, ns_type)
        )
    )
    check(
        f"namespaces.{ns_type}.new",
        NAMESPACES,
        level,
        f"a {ns_type} namespace listed without path is a new namespace",
        sabotage,
    )(run)


def _check_inherit(ns_type: str) -> None:
    def run(ctx: Context) -> None:
        container = ctx.running(lambda c: drop_namespace(c, ns_type))
        expect_equal(_link(container.pid, ns_type), _host(ns_type), f"{ns_type} namespace")

    check(
        f"namespaces.{ns_type}.inherit",
        NAMESPACES,
        MUST,
        f"without a {ns_type} entry the container stays in the runtime's {ns_type} namespace",
        breaks_config(f"a new {ns_type} namespace is made anyway", _new(ns_type)),
    )(run)


def _drop_paths(config: Config) -> None:
    for entry in namespaces(config):
        entry.pop("path", None)


def _check_join(ns_type: str) -> None:
    def run(ctx: Context) -> None:
        holder = ctx.created()
        path = f"/proc/{holder.pid}/ns/{PROC_NAME[ns_type]}"
        container = ctx.running(lambda c: add_namespace(c, ns_type, path))
        expect_equal(
            _link(container.pid, ns_type),
            _link(holder.pid, ns_type),
            f"{ns_type} namespace of the container (joined via {path})",
        )

    check(
        f"namespaces.{ns_type}.join",
        NAMESPACES,
        MUST,
        f"a {ns_type} entry with path places the container in that namespace",
        breaks_config("namespace paths are ignored (new namespaces instead)", _drop_paths),
    )(run)


for _type in ("pid", "network", "ipc", "uts", "mount", "cgroup", "user", "time"):
    _check_new(_type)
for _type in ("pid", "network", "ipc", "uts", "cgroup", "user", "time"):
    _check_inherit(_type)
for _type in ("pid", "network", "ipc", "uts", "cgroup"):
    _check_join(_type)


def _fix_paths(config: Config) -> None:
    for entry in namespaces(config):
        if "path" in entry:
            entry["path"] = entry["path"].rsplit("/", 1)[0] + "/" + PROC_NAME[entry["type"]]


@check(
    "namespaces.path-wrong-type",
    NAMESPACES,
    MUST,
    "a namespace path of another type than the entry's is an error",
    breaks_config("the runtime picks the right namespace itself", _fix_paths),
)
def path_wrong_type(ctx: Context) -> None:
    holder = ctx.created()
    ctx.create_fails(
        lambda c: add_namespace(c, "network", f"/proc/{holder.pid}/ns/ipc"),
        "an ipc namespace as the network namespace",
    )


def _dedupe(config: Config) -> None:
    seen: set[str] = set()
    kept = []
    for entry in namespaces(config):
        if entry["type"] not in seen:
            seen.add(entry["type"])
            kept.append(entry)
    linux(config)["namespaces"] = kept


@check(
    "namespaces.duplicate",
    NAMESPACES,
    MUST,
    "two namespace entries of the same type are an error",
    breaks_config("the runtime keeps the first of the duplicates", _dedupe),
)
def duplicate(ctx: Context) -> None:
    ctx.create_fails(lambda c: namespaces(c).append({"type": "network"}), "two network entries")


# -- what the namespaces isolate ---------------------------------------------------------------


@check(
    "namespaces.pid.init",
    NAMESPACES,
    MUST,
    "in a new pid namespace the container process is pid 1",
    breaks_config("the pid namespace is left out", lambda c: drop_namespace(c, "pid")),
)
def pid_init(ctx: Context) -> None:
    run = ctx.run("echo $$")
    expect_equal(run.stdout.strip(), "1", "pid of the container process inside")


@check(
    "namespaces.network.isolated",
    NAMESPACES,
    MUST,
    "a new network namespace has its own stack: only the loopback device",
    breaks_config("the network namespace is left out", lambda c: drop_namespace(c, "network")),
)
def network_isolated(ctx: Context) -> None:
    run = ctx.run("tail -n +3 /proc/net/dev | cut -d: -f1")
    expect_equal(run.stdout.split(), ["lo"], "network devices in the container")


@check(
    "namespaces.uts.isolated",
    NAMESPACES,
    MUST,
    "the container's hostname lives in its own uts namespace (the host's stays)",
    breaks_config("the uts namespace is left out", lambda c: drop_namespace(c, "uts")),
)
def uts_isolated(ctx: Context) -> None:
    before = socket.gethostname()
    run = ctx.run("hostname", lambda c: c.__setitem__("hostname", "cf-uts-isolated"))
    expect_equal(socket.gethostname(), before, "host hostname after the container ran")
    expect_equal(run.stdout.strip(), "cf-uts-isolated", "hostname in the container")


@check(
    "namespaces.mount.isolated",
    NAMESPACES,
    MUST,
    "mounts made for the container are not visible in the runtime's mount namespace",
    breaks_config("the mount namespace is left out", lambda c: drop_namespace(c, "mount")),
)
def mount_isolated(ctx: Context) -> None:
    container = ctx.running(
        lambda c: add_mount(
            c, {"destination": "/cf-iso", "type": "tmpfs", "source": "tmpfs", "options": []}
        )
    )
    inside = procfs.mount_at(procfs.mountinfo(container.pid), "/cf-iso")
    expect(inside is not None, "the tmpfs is not mounted in the container")
    leaked = [m.mountpoint for m in procfs.mountinfo("self") if m.mountpoint.endswith("/cf-iso")]
    expect(not leaked, f"container mounts visible on the host: {leaked}")


@check(
    "namespaces.ipc.isolated",
    NAMESPACES,
    MUST,
    "a new ipc namespace does not see the host's System V message queues",
    breaks_config("the ipc namespace is left out", lambda c: drop_namespace(c, "ipc")),
)
def ipc_isolated(ctx: Context) -> None:
    made = subprocess.run(["ipcmk", "-Q"], capture_output=True, text=True)
    if made.returncode != 0:
        fail(f"cannot make a host message queue with ipcmk: {made.stderr.strip()}")
    queue_id = made.stdout.strip().split()[-1]
    ctx.on_cleanup(lambda: subprocess.run(["ipcrm", "-q", queue_id], capture_output=True))
    run = ctx.run("tail -n +2 /proc/sysvipc/msg | awk '{print $2}'")
    expect(queue_id not in run.stdout.split(), f"host message queue {queue_id} is visible")


@check(
    "namespaces.cgroup.root",
    NAMESPACES,
    MUST,
    "in a new cgroup namespace the container sees its cgroup as the root",
    breaks_config("the cgroup namespace is left out", lambda c: drop_namespace(c, "cgroup")),
)
def cgroup_root(ctx: Context) -> None:
    run = ctx.run("cat /proc/self/cgroup", lambda c: add_namespace(c, "cgroup"))
    paths = {line.split(":", 2)[2] for line in run.stdout.splitlines() if line.count(":") >= 2}
    expect(paths, "no cgroup lines")
    expect_equal(paths, {"/"}, "cgroup paths seen inside")


# -- user namespace mappings --------------------------------------------------------------------


def _remap(config: Config) -> None:
    for key in ("uidMappings", "gidMappings"):
        for entry in linux(config).get(key, []):
            entry["hostID"] = entry["hostID"] + MAP_SIZE


def _map(pid: int, name: str) -> list[tuple[int, ...]]:
    rows = (procfs.proc(pid) / name).read_text().split("\n")
    return [tuple(int(x) for x in row.split()) for row in rows if row.strip()]


@check(
    "namespaces.user.uidMappings",
    MAPPINGS,
    MUST,
    "uidMappings become the user namespace's uid_map",
    breaks_config("the mappings are shifted", _remap),
)
def uid_mappings(ctx: Context) -> None:
    container = ctx.running(userns)
    expect_equal(_map(container.pid, "uid_map"), [(0, HOST_ID, MAP_SIZE)], "uid_map")


@check(
    "namespaces.user.gidMappings",
    MAPPINGS,
    MUST,
    "gidMappings become the user namespace's gid_map",
    breaks_config("the mappings are shifted", _remap),
)
def gid_mappings(ctx: Context) -> None:
    container = ctx.running(userns)
    expect_equal(_map(container.pid, "gid_map"), [(0, HOST_ID, MAP_SIZE)], "gid_map")


@check(
    "namespaces.user.ids",
    "config.md#configPOSIXUser",
    MUST,
    "process.user ids are container ids: uid 1000 runs as host uid hostID+1000",
    breaks_config("the mappings are shifted", _remap),
)
def user_ids(ctx: Context) -> None:
    def setup(config: Config) -> None:
        userns(config)
        config["process"]["user"] = {"uid": 1000, "gid": 1000}

    container = ctx.running(setup)
    status = procfs.status(container.pid)
    expect_equal(status["Uid"].split()[0], str(HOST_ID + 1000), "host uid of the process")
    expect_equal(status["Gid"].split()[0], str(HOST_ID + 1000), "host gid of the process")


def _chown_rootfs(config: Config, bundle: object) -> None:
    rootfs = os.path.join(str(bundle), config["root"]["path"])
    config.setdefault("hooks", {}).setdefault("createRuntime", []).append(
        {"path": "/bin/chown", "args": ["chown", f"{HOST_ID}:{HOST_ID}", rootfs]}
    )


@check(
    "namespaces.user.no-chown",
    MAPPINGS,
    SHOULD,
    "the runtime does not chown the root filesystem to realize the mapping",
    breaks_bundle("a hook chowns the rootfs to the mapped root", _chown_rootfs),
)
def no_chown(ctx: Context) -> None:
    container = ctx.running(userns)
    for path in (container.bundle.rootfs, container.bundle.rootfs / "etc"):
        st = os.stat(path)
        expect_equal((st.st_uid, st.st_gid), (0, 0), f"owner of {path}")


# -- time namespace offsets --------------------------------------------------------------------

OFFSETS = {"monotonic": {"secs": 86400, "nanosecs": 0}, "boottime": {"secs": 172800}}


def _shift_offsets(config: Config) -> None:
    for entry in linux(config).get("timeOffsets", {}).values():
        entry["secs"] = entry.get("secs", 0) + 1


@check(
    "namespaces.time.offsets",
    TIME_OFFSETS,
    MUST,
    "timeOffsets are the clock offsets of the new time namespace",
    breaks_config("the offsets are changed", _shift_offsets),
)
def time_offsets(ctx: Context) -> None:
    def setup(config: Config) -> None:
        _timens(config)
        linux(config)["timeOffsets"] = {k: dict(v) for k, v in OFFSETS.items()}

    container = ctx.running(setup)
    text = (procfs.proc(container.pid) / "timens_offsets").read_text()
    found = {line.split()[0]: line.split()[1:] for line in text.splitlines() if line.strip()}
    expect_equal(found.get("monotonic"), ["86400", "0"], "monotonic offset")
    expect_equal(found.get("boottime"), ["172800", "0"], "boottime offset")
