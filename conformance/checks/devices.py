"""Devices: the default devices, linux.devices nodes, and the device cgroup allow list."""

from __future__ import annotations

from conformance.bundle import Config
from conformance.checks._common import Mutation, drop_mount, linux, resources
from conformance.context import Context
from conformance.registry import Level, check, expect, expect_equal
from conformance.sabotage import Sabotage, breaks_config

MUST = Level.MUST
MAY = Level.MAY
DEFAULTS = "config-linux.md#configLinuxDefaultDevices"
DEVICES = "config-linux.md#configLinuxDevices"
ALLOWED = "config-linux.md#configLinuxDeviceAllowedlist"

STAT = "stat -c '%F %t %T'"  # file type, major and minor in hex


def _remove_in_container(*paths: str) -> Mutation:
    """A sabotage: a startContainer hook deletes ``paths`` before the user program runs."""

    def mutate(config: Config) -> None:
        config.setdefault("hooks", {}).setdefault("startContainer", []).append(
            {"path": "/bin/rm", "args": ["rm", "-f", *paths]}
        )

    return mutate


def _default_device(name: str, major: int, minor: int) -> None:
    def run(ctx: Context) -> None:
        result = ctx.run(f"{STAT} /dev/{name}")
        want = f"character special file {major:x} {minor:x}"
        expect_equal(result.stdout.strip(), want, f"/dev/{name}")

    check(
        f"devices.default.{name}",
        DEFAULTS,
        MUST,
        f"/dev/{name} is supplied as character device {major}:{minor}",
        breaks_config(f"/dev/{name} is removed", _remove_in_container(f"/dev/{name}")),
    )(run)


for _name, _major, _minor in (
    ("null", 1, 3),
    ("zero", 1, 5),
    ("full", 1, 7),
    ("random", 1, 8),
    ("urandom", 1, 9),
    ("tty", 5, 0),
):
    _default_device(_name, _major, _minor)


@check(
    "devices.default.ptmx",
    DEFAULTS,
    MUST,
    "/dev/ptmx is a symlink to or a bind mount of the container's /dev/pts/ptmx",
    breaks_config("/dev/ptmx is removed", _remove_in_container("/dev/ptmx")),
)
def ptmx(ctx: Context) -> None:
    run = ctx.run(
        "if [ -L /dev/ptmx ]; then echo link $(readlink /dev/ptmx); "
        "else echo node $(stat -c %d:%i /dev/ptmx) $(stat -c %d:%i /dev/pts/ptmx); fi"
    )
    words = run.stdout.split()
    if words[:1] == ["link"]:
        expect(words[1:] in (["pts/ptmx"], ["/dev/pts/ptmx"]), f"/dev/ptmx -> {words[1:]}")
    else:
        expect(
            len(words) == 3 and words[0] == "node" and words[1] == words[2],
            f"/dev/ptmx is neither a link to nor a bind of /dev/pts/ptmx: {run.stdout.strip()}",
        )


@check(
    "devices.default.usable",
    DEFAULTS,
    MUST,
    "the default devices can be used (the device cgroup lets them through)",
    breaks_config(
        "/dev/zero and /dev/urandom are removed", _remove_in_container("/dev/zero", "/dev/urandom")
    ),
)
def defaults_usable(ctx: Context) -> None:
    run = ctx.run(
        "echo x > /dev/null && head -c 4 /dev/zero | wc -c; head -c 4 /dev/urandom | wc -c"
    )
    expect_equal(run.stdout.split(), ["4", "4"], "bytes read from /dev/zero and /dev/urandom")


def _devices(*entries: dict) -> Mutation:
    def mutate(config: Config) -> None:
        linux(config)["devices"] = [dict(e) for e in entries]

    return mutate


def _edit_device(**fields: object) -> Mutation:
    def mutate(config: Config) -> None:
        for entry in linux(config).get("devices", []):
            entry.update(fields)

    return mutate


def _no_devices(config: Config) -> None:
    linux(config)["devices"] = []


def _device_node(
    name: str, entry: dict, command: str, want: str, what: str, sabotage: Sabotage
) -> None:
    def run(ctx: Context) -> None:
        result = ctx.run(command, _devices(entry))
        expect_equal(result.stdout.strip(), want, what)

    check(
        f"devices.{name}",
        DEVICES,
        MUST,
        f"linux.devices: {what}",
        sabotage,
    )(run)


_CHAR = {"path": "/dev/cf-char", "type": "c", "major": 1, "minor": 7}

_device_node(
    "char",
    _CHAR,
    f"{STAT} /dev/cf-char",
    "character special file 1 7",
    "a c entry is a character device with its major:minor",
    breaks_config("the minor number is changed", _edit_device(minor=8)),
)
_device_node(
    "block",
    {"path": "/dev/cf-block", "type": "b", "major": 7, "minor": 0},
    f"{STAT} /dev/cf-block",
    "block special file 7 0",
    "a b entry is a block device with its major:minor",
    breaks_config("the minor number is changed", _edit_device(minor=1)),
)
_device_node(
    "fifo",
    {"path": "/dev/cf-fifo", "type": "p"},
    "stat -c %F /dev/cf-fifo",
    "fifo",
    "a p entry is a fifo",
    breaks_config("the device list is dropped", _no_devices),
)
_device_node(
    "unbuffered",
    {"path": "/dev/cf-unbuffered", "type": "u", "major": 1, "minor": 3},
    f"{STAT} /dev/cf-unbuffered",
    "character special file 1 3",
    "a u entry is an (unbuffered) character device",
    breaks_config("the device list is dropped", _no_devices),
)
_device_node(
    "fileMode",
    dict(_CHAR, fileMode=0o640),
    "stat -c %a /dev/cf-char",
    "640",
    "fileMode sets the node's permission bits",
    breaks_config("fileMode is changed", _edit_device(fileMode=0o666)),
)
_device_node(
    "uid",
    dict(_CHAR, uid=1000, gid=1001),
    "stat -c %u /dev/cf-char",
    "1000",
    "uid sets the node's owner",
    breaks_config("uid is changed", _edit_device(uid=0)),
)
_device_node(
    "gid",
    dict(_CHAR, uid=1000, gid=1001),
    "stat -c %g /dev/cf-char",
    "1001",
    "gid sets the node's group",
    breaks_config("gid is changed", _edit_device(gid=0)),
)
_device_node(
    "outside-dev",
    {"path": "/cf-devices/null", "type": "c", "major": 1, "minor": 3},
    f"{STAT} /cf-devices/null",
    "character special file 1 3",
    "a device path outside /dev is created there",
    breaks_config("the device list is dropped", _no_devices),
)


@check(
    "devices.usable",
    DEVICES,
    MUST,
    "a linux.devices node is available: it reaches the device (writing /dev/full-like: ENOSPC)",
    breaks_config("the node gets another device number (1:3)", _edit_device(minor=3)),
)
def usable(ctx: Context) -> None:
    run = ctx.run("echo x 2>&1 > /dev/cf-char; echo x > /dev/cf-char 2>&1 | cat", _devices(_CHAR))
    expect("No space left on device" in run.stdout, f"writing to the node: {run.stdout.strip()!r}")


@check(
    "devices.existing-mismatch",
    DEVICES,
    MUST,
    "a device path where a non-matching file already exists is an error",
    breaks_config("the device goes to another path", _edit_device(path="/dev/cf-other")),
)
def existing_mismatch(ctx: Context) -> None:
    # /dev comes from the rootfs here (no tmpfs over it), so the regular file is in the way.
    def configure(config: Config) -> None:
        _devices({"path": "/dev/cf-thing", "type": "c", "major": 1, "minor": 3})(config)
        drop_mount(config, "/dev")

    container = ctx.container(configure)
    (container.bundle.rootfs / "dev" / "cf-thing").write_text("a regular file\n")
    result = container.create(expect_ok=False)
    expect(not result.ok, "create accepted a device over an existing regular file")


# -- the device cgroup -----------------------------------------------------------------------

# Make a node for block 7:0 (loop0) and open it: the device cgroup decides the open. An allowed
# open reaches the driver (ENXIO for an unbound loop device, or data); a denied one gets EPERM.
OPEN_LOOP = "mknod /tmp/cf-loop b 7 0 && head -c1 /tmp/cf-loop 2>&1 >/dev/null; echo rc=$?"


def _rules(*rules: dict) -> Mutation:
    def mutate(config: Config) -> None:
        resources(config)["devices"] = [{"allow": False, "access": "rwm"}, *rules]

    return mutate


_LOOP_ALLOW = {"allow": True, "type": "b", "major": 7, "minor": 0, "access": "rwm"}
_LOOP_DENY = {"allow": False, "type": "b", "major": 7, "minor": 0, "access": "rwm"}


@check(
    "devices.cgroup.deny",
    ALLOWED,
    MUST,
    "a deny-all device list stops the container from opening other devices",
    breaks_config(
        "everything is allowed",
        lambda c: resources(c).setdefault("devices", []).append({"allow": True, "access": "rwm"}),
    ),
)
def cgroup_deny(ctx: Context) -> None:
    run = ctx.run(OPEN_LOOP, _rules())
    expect("Operation not permitted" in run.stdout, f"open of block 7:0: {run.stdout.strip()!r}")


@check(
    "devices.cgroup.allow",
    ALLOWED,
    MUST,
    "an allow entry lets the container open that device",
    breaks_config("the allow entry is dropped", _rules()),
)
def cgroup_allow(ctx: Context) -> None:
    run = ctx.run(OPEN_LOOP, _rules(_LOOP_ALLOW))
    expect("Operation not permitted" not in run.stdout, f"open was denied: {run.stdout.strip()!r}")


def _swap_last_two(config: Config) -> None:
    rules = resources(config).get("devices", [])
    if len(rules) >= 2:
        rules[-1], rules[-2] = rules[-2], rules[-1]


@check(
    "devices.cgroup.order",
    ALLOWED,
    MUST,
    "device list entries apply in order: a later deny overrides an earlier allow",
    breaks_config("the last two entries are swapped", _swap_last_two),
)
def cgroup_order(ctx: Context) -> None:
    run = ctx.run(OPEN_LOOP, _rules(_LOOP_ALLOW, _LOOP_DENY))
    expect("Operation not permitted" in run.stdout, f"open of block 7:0: {run.stdout.strip()!r}")
