"""linux.maskedPaths and linux.readonlyPaths."""

from __future__ import annotations

from conformance.bundle import Config
from conformance.checks._common import Mutation, linux
from conformance.context import Context
from conformance.registry import Level, check, expect, expect_equal
from conformance.sabotage import breaks_config

MUST = Level.MUST
MASKED = "config-linux.md#configLinuxMaskedPaths"
READONLY = "config-linux.md#configLinuxReadonlyPaths"


def _paths(key: str, *paths: str) -> Mutation:
    def mutate(config: Config) -> None:
        linux(config)[key] = list(paths)

    return mutate


def _clear(key: str) -> Mutation:
    return lambda config: linux(config).__setitem__(key, [])


def _secret_container(ctx: Context, configure: Mutation, script: str) -> str:
    """Run ``script`` in a rootfs holding /cf-secret-file and /cf-secret-dir/file."""
    container = ctx.container(configure, ["sh", "-c", script])
    rootfs = container.bundle.rootfs
    (rootfs / "cf-secret-file").write_text("secret\n")
    (rootfs / "cf-secret-dir").mkdir()
    (rootfs / "cf-secret-dir" / "file").write_text("secret\n")
    container.create()
    container.start()
    container.wait_exit()
    return container.stdout()


@check(
    "paths.masked.file",
    MASKED,
    MUST,
    "a masked file cannot be read (reads give nothing)",
    breaks_config("maskedPaths is ignored", _clear("maskedPaths")),
)
def masked_file(ctx: Context) -> None:
    out = _secret_container(
        ctx, _paths("maskedPaths", "/cf-secret-file"), "cat /cf-secret-file 2>/dev/null; echo end"
    )
    expect_equal(out.split(), ["end"], "what reading /cf-secret-file gave")


@check(
    "paths.masked.dir",
    MASKED,
    MUST,
    "a masked directory shows none of its content",
    breaks_config("maskedPaths is ignored", _clear("maskedPaths")),
)
def masked_dir(ctx: Context) -> None:
    out = _secret_container(
        ctx, _paths("maskedPaths", "/cf-secret-dir"), "ls -A /cf-secret-dir 2>/dev/null; echo end"
    )
    expect_equal(out.split(), ["end"], "listing of /cf-secret-dir")


@check(
    "paths.masked.proc",
    MASKED,
    MUST,
    "a masked /proc file (/proc/cmdline) cannot be read",
    breaks_config("maskedPaths is ignored", _clear("maskedPaths")),
)
def masked_proc(ctx: Context) -> None:
    run = ctx.run(
        "head -c 16 /proc/cmdline 2>/dev/null | wc -c", _paths("maskedPaths", "/proc/cmdline")
    )
    expect_equal(run.stdout.strip(), "0", "bytes read from /proc/cmdline")


@check(
    "paths.readonly.dir",
    READONLY,
    MUST,
    "a read-only path cannot be written but can still be read",
    breaks_config("readonlyPaths is ignored", _clear("readonlyPaths")),
)
def readonly_dir(ctx: Context) -> None:
    out = _secret_container(
        ctx,
        _paths("readonlyPaths", "/cf-secret-dir"),
        "cat /cf-secret-dir/file; touch /cf-secret-dir/new 2>&1; echo rc=$?",
    )
    expect("secret" in out, f"content no longer readable: {out!r}")
    expect("rc=0" not in out, "writing into a read-only path succeeded")
    expect("Read-only file system" in out, f"unexpected error: {out.strip()!r}")


@check(
    "paths.readonly.file",
    READONLY,
    MUST,
    "a read-only file cannot be written",
    breaks_config("readonlyPaths is ignored", _clear("readonlyPaths")),
)
def readonly_file(ctx: Context) -> None:
    out = _secret_container(
        ctx,
        _paths("readonlyPaths", "/cf-secret-file"),
        "echo changed 2>&1 > /cf-secret-file; echo rc=$?; cat /cf-secret-file",
    )
    expect("rc=0" not in out, "writing a read-only file succeeded")
    expect("secret" in out, f"file content changed or unreadable: {out!r}")


@check(
    "paths.readonly.proc-sys",
    READONLY,
    MUST,
    "a read-only /proc/sys cannot be written, even by root with capabilities",
    breaks_config("readonlyPaths is ignored", _clear("readonlyPaths")),
)
def readonly_proc_sys(ctx: Context) -> None:
    run = ctx.run(
        "echo 1 2>&1 > /proc/sys/net/ipv4/ip_forward; echo rc=$?",
        _paths("readonlyPaths", "/proc/sys"),
    )
    expect("rc=0" not in run.stdout, "writing /proc/sys succeeded")
    expect("Read-only file system" in run.stdout, f"unexpected error: {run.stdout.strip()!r}")
