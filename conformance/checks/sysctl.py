"""linux.sysctl: kernel parameters set in the container's namespaces, never the host's."""

from __future__ import annotations

from pathlib import Path

from conformance.bundle import Config
from conformance.checks._common import drop_namespace, linux
from conformance.context import Context
from conformance.registry import Level, check, expect_equal
from conformance.sabotage import breaks_config

MUST = Level.MUST
SYSCTL = "config-linux.md#configLinuxSysctl"


def _drop_sysctl(config: Config) -> None:
    linux(config).pop("sysctl", None)


def _value_check(key: str, value: str) -> None:
    proc_path = "/proc/sys/" + key.replace(".", "/")

    def run(ctx: Context) -> None:
        result = ctx.run(f"cat {proc_path}", lambda c: linux(c).__setitem__("sysctl", {key: value}))
        expect_equal(result.stdout.strip(), value, key)

    check(
        f"sysctl.{key}",
        SYSCTL,
        MUST,
        f"sysctl {key} is set in the container",
        breaks_config("sysctl is dropped", _drop_sysctl),
    )(run)


# Namespaced parameters: network (net.*) and ipc (kernel.msg*, kernel.shm*).
for _key, _value in (
    ("net.ipv4.ip_forward", "1"),
    ("net.core.somaxconn", "777"),
    ("net.ipv4.ping_group_range", "0\t12345"),
    ("kernel.msgmax", "4321"),
    ("kernel.shmmni", "1234"),
):
    _value_check(_key, _value)


@check(
    "sysctl.host-untouched",
    SYSCTL,
    MUST,
    "a namespaced sysctl does not change the host's value",
    breaks_config("the network namespace is left out", lambda c: drop_namespace(c, "network")),
)
def host_untouched(ctx: Context) -> None:
    host = Path("/proc/sys/net/core/somaxconn")
    before = host.read_text().strip()
    wanted = "1111" if before != "1111" else "2222"
    run = ctx.run(
        "cat /proc/sys/net/core/somaxconn",
        lambda c: linux(c).__setitem__("sysctl", {"net.core.somaxconn": wanted}),
    )
    after = host.read_text().strip()
    if after != before:
        host.write_text(before)  # put the host back before saying anything
    expect_equal(after, before, "host net.core.somaxconn after the container ran")
    expect_equal(run.stdout.strip(), wanted, "net.core.somaxconn in the container")


@check(
    "sysctl.unknown",
    SYSCTL,
    MUST,
    "a sysctl that does not exist is an error",
    breaks_config("unknown sysctls are dropped", _drop_sysctl),
)
def unknown(ctx: Context) -> None:
    ctx.create_fails(
        lambda c: linux(c).__setitem__("sysctl", {"net.ipv4.conformance_bogus": "1"}),
        "sysctl net.ipv4.conformance_bogus",
    )
