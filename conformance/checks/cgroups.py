"""Cgroups: cgroupsPath and the resources, read from the container's own cgroup files (v1 or v2).

Every container of the suite gets an absolute cgroupsPath below a parent of the suite's own
(/pyrunc-conformance-<token>/<id>), so nothing is written outside it.
"""

from __future__ import annotations

from pathlib import Path

from conformance import cgroupfs
from conformance.bundle import Config
from conformance.checks._common import Mutation, linux, resources
from conformance.context import Context
from conformance.registry import Level, check, expect, expect_equal, skip
from conformance.sabotage import breaks_config

MUST = Level.MUST
SHOULD = Level.SHOULD
PATH = "config-linux.md#configLinuxCgroupsPath"
MEMORY = "config-linux.md#configLinuxMemory"
CPU = "config-linux.md#configLinuxCPU"
PIDS = "config-linux.md#configLinuxPIDS"
BLOCK_IO = "config-linux.md#configLinuxBlockIO"
UNIFIED = "config-linux.md#configLinuxUnified"

MIB = 1024 * 1024


def _resource(section: str, **values: object) -> Mutation:
    def mutate(config: Config) -> None:
        resources(config).setdefault(section, {}).update(values)

    return mutate


def _read(pid: int, controller: str, v1_file: str, v2_file: str | None) -> tuple[str, int]:
    """Content of the controller file in the process's cgroup, and the cgroup version."""
    found = cgroupfs.controller_dir(pid, controller)
    if found is None:
        skip(f"the {controller} controller is not available on this host")
    directory, version = found
    name = v1_file if version == 1 else v2_file
    if name is None:
        skip(f"{v1_file} has no cgroup v2 counterpart")
    path = directory / name
    if not path.exists():
        skip(f"{path} does not exist on this host")
    return cgroupfs.read(path), version


def _value_check(
    check_id: str,
    section: str,
    description: str,
    configure: Mutation,
    sabotage_values: dict,
    resource_section: str,
    controller: str,
    v1: tuple[str, str],
    v2: tuple[str | None, str],
    level: Level = MUST,
) -> None:
    def run(ctx: Context) -> None:
        container = ctx.running(configure)
        got, version = _read(container.pid, controller, v1[0], v2[0])
        want = v1[1] if version == 1 else v2[1]
        if want.startswith("line:"):
            expect(want[5:] in got.splitlines(), f"{v1[0] if version == 1 else v2[0]}: {got!r}")
        else:
            expect_equal(got, want, v1[0] if version == 1 else str(v2[0]))

    check(
        check_id,
        section,
        level,
        description,
        breaks_config(
            f"{resource_section} values are changed", _resource(resource_section, **sabotage_values)
        ),
    )(run)


# -- cgroupsPath -------------------------------------------------------------------------------


def _relevant_paths(pid: int) -> dict[str, str]:
    paths = cgroupfs.process_paths(pid)
    wanted = {k: v for k, v in paths.items() if k in ("memory", "pids", "cpu", "devices")}
    if cgroupfs.layout() == "v2":
        wanted = {"": paths.get("", "?")}
    return wanted


def _move_cgroup(config: Config) -> None:
    path = linux(config).get("cgroupsPath", "")
    linux(config)["cgroupsPath"] = path.rsplit("/", 1)[0] + "/elsewhere-" + path.rsplit("/", 1)[-1]


@check(
    "cgroups.path",
    PATH,
    MUST,
    "an absolute cgroupsPath is the container's cgroup, relative to each cgroup mount",
    breaks_config("the cgroup goes elsewhere", _move_cgroup),
)
def path(ctx: Context) -> None:
    container = ctx.running()
    wanted = container.bundle.config["linux"]["cgroupsPath"]
    paths = _relevant_paths(container.pid)
    expect(paths, "the container process is in none of the memory/pids/cpu/devices cgroups")
    wrong = {k or "unified": v for k, v in paths.items() if v != wanted}
    expect(not wrong, f"cgroups other than {wanted}: {wrong}")


@check(
    "cgroups.path.created",
    PATH,
    MUST,
    "missing cgroups along a nested cgroupsPath are created",
    breaks_config("the cgroup goes elsewhere", _move_cgroup),
)
def path_created(ctx: Context) -> None:
    nested = f"{ctx.session.cgroup_parent}/nested-{ctx.session.next_id()}/deeper/c"
    container = ctx.running(lambda c: linux(c).__setitem__("cgroupsPath", nested))
    paths = _relevant_paths(container.pid)
    wrong = {k or "unified": v for k, v in paths.items() if v != nested}
    expect(paths and not wrong, f"cgroups other than {nested}: {wrong or paths}")


# -- memory ------------------------------------------------------------------------------------

_value_check(
    "cgroups.memory.limit",
    MEMORY,
    "memory.limit is the cgroup's memory limit",
    _resource("memory", limit=64 * MIB),
    {"limit": 96 * MIB},
    "memory",
    "memory",
    ("memory.limit_in_bytes", str(64 * MIB)),
    ("memory.max", str(64 * MIB)),
)
_value_check(
    "cgroups.memory.reservation",
    MEMORY,
    "memory.reservation is the cgroup's soft limit",
    _resource("memory", reservation=32 * MIB),
    {"reservation": 48 * MIB},
    "memory",
    "memory",
    ("memory.soft_limit_in_bytes", str(32 * MIB)),
    ("memory.low", str(32 * MIB)),
)
_value_check(
    "cgroups.memory.swap",
    MEMORY,
    "memory.swap is the cgroup's memory+swap limit",
    _resource("memory", limit=64 * MIB, swap=128 * MIB),
    {"swap": 192 * MIB},
    "memory",
    "memory",
    ("memory.memsw.limit_in_bytes", str(128 * MIB)),
    ("memory.swap.max", str(64 * MIB)),
)
_value_check(
    "cgroups.memory.swappiness",
    MEMORY,
    "memory.swappiness is the cgroup's swappiness",
    _resource("memory", swappiness=17),
    {"swappiness": 33},
    "memory",
    "memory",
    ("memory.swappiness", "17"),
    (None, ""),
)
_value_check(
    "cgroups.memory.disableOOMKiller",
    MEMORY,
    "memory.disableOOMKiller true disables the cgroup's OOM killer",
    _resource("memory", disableOOMKiller=True),
    {"disableOOMKiller": False},
    "memory",
    "memory",
    ("memory.oom_control", "line:oom_kill_disable 1"),
    (None, ""),
)

# -- cpu ---------------------------------------------------------------------------------------

_value_check(
    "cgroups.cpu.shares",
    CPU,
    "cpu.shares is the cgroup's cpu share (weight on cgroup v2)",
    _resource("cpu", shares=512),
    {"shares": 2048},
    "cpu",
    "cpu",
    ("cpu.shares", "512"),
    ("cpu.weight", str(1 + (512 - 2) * 9999 // 262142)),
)
_value_check(
    "cgroups.cpu.quota",
    CPU,
    "cpu.quota is the cgroup's CFS quota",
    _resource("cpu", quota=50000, period=100000),
    {"quota": 70000},
    "cpu",
    "cpu",
    ("cpu.cfs_quota_us", "50000"),
    ("cpu.max", "50000 100000"),
)
_value_check(
    "cgroups.cpu.period",
    CPU,
    "cpu.period is the cgroup's CFS period",
    _resource("cpu", quota=100000, period=250000),
    {"period": 200000},
    "cpu",
    "cpu",
    ("cpu.cfs_period_us", "250000"),
    ("cpu.max", "100000 250000"),
)
_value_check(
    "cgroups.cpu.burst",
    CPU,
    "cpu.burst is the cgroup's CFS burst",
    _resource("cpu", quota=50000, period=100000, burst=20000),
    {"burst": 30000},
    "cpu",
    "cpu",
    ("cpu.cfs_burst_us", "20000"),
    ("cpu.max.burst", "20000"),
)
_value_check(
    "cgroups.cpu.idle",
    CPU,
    "cpu.idle 1 marks the cgroup SCHED_IDLE",
    _resource("cpu", idle=1),
    {"idle": 0},
    "cpu",
    "cpu",
    ("cpu.idle", "1"),
    ("cpu.idle", "1"),
)
_value_check(
    "cgroups.cpu.cpus",
    CPU,
    "cpu.cpus is the cgroup's cpuset",
    _resource("cpu", cpus="0"),
    {"cpus": "0-1"},
    "cpu",
    "cpuset",
    ("cpuset.cpus", "0"),
    ("cpuset.cpus", "0"),
)
_value_check(
    "cgroups.cpu.mems",
    CPU,
    "cpu.mems is the cgroup's memory node set",
    _resource("cpu", mems="0"),
    {"mems": "1-63"},
    "cpu",
    "cpuset",
    ("cpuset.mems", "0"),
    ("cpuset.mems", "0"),
)

# -- pids --------------------------------------------------------------------------------------

_value_check(
    "cgroups.pids.limit",
    PIDS,
    "pids.limit is the cgroup's pids.max",
    _resource("pids", limit=42),
    {"limit": 43},
    "pids",
    "pids",
    ("pids.max", "42"),
    ("pids.max", "42"),
)
_value_check(
    "cgroups.pids.unlimited",
    PIDS,
    "pids.limit -1 means no limit (max)",
    _resource("pids", limit=-1),
    {"limit": 42},
    "pids",
    "pids",
    ("pids.max", "max"),
    ("pids.max", "max"),
)
_value_check(
    "cgroups.pids.zero",
    PIDS,
    "pids.limit 0 is a limit of zero, not 'unset'",
    _resource("pids", limit=0),
    {"limit": 1},
    "pids",
    "pids",
    ("pids.max", "0"),
    ("pids.max", "0"),
    level=SHOULD,
)


@check(
    "cgroups.pids.enforced",
    PIDS,
    MUST,
    "the pids limit holds inside the container: forking beyond it fails",
    breaks_config("the limit is raised", _resource("pids", limit=1000)),
)
def pids_enforced(ctx: Context) -> None:
    # busybox sh gives up at the first failed fork; the message is the evidence.
    script = "exec 2>&1; for i in 1 2 3 4 5 6 7 8; do sleep 5 & done; echo all started"
    run = ctx.run(script, _resource("pids", limit=4))
    expect(
        "can't fork" in run.stdout or "Resource temporarily unavailable" in run.stdout,
        f"8 background processes started under pids.limit 4: {run.stdout.strip()!r}",
    )


@check(
    "cgroups.applied-at-create",
    "runtime.md#runtimeCreate",
    MUST,
    "resources are applied by create, before start",
    breaks_config("the limit is changed", _resource("pids", limit=77)),
)
def applied_at_create(ctx: Context) -> None:
    container = ctx.created(_resource("pids", limit=55))
    got, _ = _read(container.pid, "pids", "pids.max", "pids.max")
    expect_equal(got, "55", "pids.max of the created container")


# -- block io throttling -----------------------------------------------------------------------


def _block_device() -> tuple[int, int] | None:
    """major:minor of a real whole-disk block device (throttling needs one)."""
    for dev in sorted(Path("/sys/block").iterdir()):
        if dev.name.startswith(("loop", "ram", "zram", "nbd", "dm-", "md")):
            continue
        try:
            major, minor = (dev / "dev").read_text().strip().split(":")
        except (OSError, ValueError):
            continue
        return int(major), int(minor)
    return None


def _throttle(field: str, v1_file: str, v2_key: str) -> None:
    def run(ctx: Context) -> None:
        device = _block_device()
        if device is None:
            skip("no whole-disk block device on this host to throttle")
        major, minor = device
        rate = 1048576 if "Bps" in field else 1234

        def configure(config: Config) -> None:
            blkio = resources(config).setdefault("blockIO", {})
            blkio[field] = [{"major": major, "minor": minor, "rate": rate}]

        container = ctx.running(configure)
        got, version = _read(container.pid, "blkio" if _v1_blkio() else "io", v1_file, "io.max")
        if version == 1:
            expect(f"{major}:{minor} {rate}" in got.splitlines(), f"{v1_file}: {got!r}")
        else:
            expect(f"{v2_key}={rate}" in got, f"io.max: {got!r}")

    def sabotage(config: Config) -> None:
        for entry in resources(config).get("blockIO", {}).get(field, []):
            entry["rate"] += 1

    check(
        f"cgroups.blockIO.{field}",
        BLOCK_IO,
        MUST,
        f"blockIO.{field} is the cgroup's throttle for that device",
        breaks_config("the rate is changed", sabotage),
    )(run)


def _v1_blkio() -> bool:
    return any(h.version == 1 and "blkio" in h.controllers for h in cgroupfs.hierarchies())


for _field, _v1, _v2 in (
    ("throttleReadBpsDevice", "blkio.throttle.read_bps_device", "rbps"),
    ("throttleWriteBpsDevice", "blkio.throttle.write_bps_device", "wbps"),
    ("throttleReadIOPSDevice", "blkio.throttle.read_iops_device", "riops"),
    ("throttleWriteIOPSDevice", "blkio.throttle.write_iops_device", "wiops"),
):
    _throttle(_field, _v1, _v2)


# -- unified -----------------------------------------------------------------------------------


@check(
    "cgroups.unified.unknown-controller",
    UNIFIED,
    MUST,
    "unified naming a controller that is not present is an error",
    breaks_config("unified is dropped", lambda c: resources(c).pop("unified", None)),
)
def unified_unknown(ctx: Context) -> None:
    ctx.create_fails(
        lambda c: resources(c).__setitem__("unified", {"conformance.max": "1"}),
        "unified setting conformance.max (no such controller)",
    )
