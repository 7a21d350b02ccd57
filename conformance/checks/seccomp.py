"""linux.seccomp: actions, errno values, the default action, argument matching.

The victim is mkdir: busybox's mkdir makes the mkdir (or mkdirat) system call and prints
strerror() of a failure, which tells EPERM from other errnos. The shell reports how its child
ended: 128+31 means killed by SIGSYS.
"""

from __future__ import annotations

import platform
from typing import Any

from conformance import procfs
from conformance.bundle import Config
from conformance.checks._common import Mutation, linux
from conformance.checks._syscalls import X86_64_SYSCALLS
from conformance.context import Context
from conformance.registry import Level, check, expect, expect_equal, skip
from conformance.sabotage import breaks_config

MUST = Level.MUST
SECCOMP = "config-linux.md#configLinuxSeccomp"

VICTIMS = ["mkdir", "mkdirat"]
MKDIR = "mkdir /tmp/cf-dir 2>&1; echo rc=$?"
SIGSYS_EXIT = "rc=159"
EOPNOTSUPP = 95


def _seccomp(action: str = "SCMP_ACT_ERRNO", default: str = "SCMP_ACT_ALLOW", **rule: Any):
    def mutate(config: Config) -> None:
        linux(config)["seccomp"] = {
            "defaultAction": default,
            "syscalls": [{"names": list(VICTIMS), "action": action, **rule}],
        }

    return mutate


def _allow_list(default: str = "SCMP_ACT_ERRNO", **extra: Any) -> Mutation:
    """Everything but mkdir is allowed explicitly; mkdir meets the default action."""

    def mutate(config: Config) -> None:
        if platform.machine() != "x86_64":
            skip("the allow-list of system calls is written for x86_64")
        names = [n for n in X86_64_SYSCALLS if n not in VICTIMS]
        linux(config)["seccomp"] = {
            "defaultAction": default,
            **extra,
            "syscalls": [{"names": names, "action": "SCMP_ACT_ALLOW"}],
        }

    return mutate


def _no_seccomp(config: Config) -> None:
    linux(config).pop("seccomp", None)


def _edit_rules(**fields: Any) -> Mutation:
    def mutate(config: Config) -> None:
        for rule in linux(config).get("seccomp", {}).get("syscalls", []):
            for key, value in fields.items():
                if value is None:
                    rule.pop(key, None)
                else:
                    rule[key] = value

    return mutate


def _edit_filter(**fields: Any) -> Mutation:
    def mutate(config: Config) -> None:
        seccomp = linux(config).get("seccomp")
        if seccomp is None:
            return
        for key, value in fields.items():
            if value is None:
                seccomp.pop(key, None)
            else:
                seccomp[key] = value

    return mutate


@check(
    "seccomp.errno",
    SECCOMP,
    MUST,
    "SCMP_ACT_ERRNO makes the system call fail with EPERM",
    breaks_config("seccomp is dropped", _no_seccomp),
)
def errno(ctx: Context) -> None:
    run = ctx.run(MKDIR, _seccomp())
    expect("Operation not permitted" in run.stdout, f"mkdir: {run.stdout.strip()!r}")


@check(
    "seccomp.errnoRet",
    SECCOMP,
    MUST,
    "errnoRet is the errno a SCMP_ACT_ERRNO rule returns",
    breaks_config("errnoRet is dropped", _edit_rules(errnoRet=None)),
)
def errno_ret(ctx: Context) -> None:
    run = ctx.run(MKDIR, _seccomp(errnoRet=EOPNOTSUPP))
    expect("not supported" in run.stdout, f"mkdir (want EOPNOTSUPP): {run.stdout.strip()!r}")


@check(
    "seccomp.defaultAction",
    SECCOMP,
    MUST,
    "defaultAction applies to system calls no rule matches",
    breaks_config(
        "the default action is SCMP_ACT_ALLOW", _edit_filter(defaultAction="SCMP_ACT_ALLOW")
    ),
)
def default_action(ctx: Context) -> None:
    run = ctx.run(f"echo alive; {MKDIR}", _allow_list())
    expect("alive" in run.stdout, f"allowed calls failed: {run.stdout.strip()!r}")
    expect("Operation not permitted" in run.stdout, f"mkdir: {run.stdout.strip()!r}")


@check(
    "seccomp.defaultErrnoRet",
    SECCOMP,
    MUST,
    "defaultErrnoRet is the errno of the default SCMP_ACT_ERRNO action",
    breaks_config("defaultErrnoRet is dropped", _edit_filter(defaultErrnoRet=None)),
)
def default_errno_ret(ctx: Context) -> None:
    run = ctx.run(MKDIR, _allow_list(defaultErrnoRet=EOPNOTSUPP))
    expect("not supported" in run.stdout, f"mkdir (want EOPNOTSUPP): {run.stdout.strip()!r}")


def _killing(action: str) -> None:
    def run(ctx: Context) -> None:
        result = ctx.run(MKDIR, _seccomp(action))
        expect(SIGSYS_EXIT in result.stdout, f"mkdir under {action}: {result.stdout.strip()!r}")

    check(
        f"seccomp.{action.removeprefix('SCMP_ACT_').lower().replace('_', '-')}",
        SECCOMP,
        MUST,
        f"{action} ends the calling process with SIGSYS",
        breaks_config("the action becomes SCMP_ACT_ERRNO", _edit_rules(action="SCMP_ACT_ERRNO")),
    )(run)


for _action in ("SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_TRAP"):
    _killing(_action)


@check(
    "seccomp.log",
    SECCOMP,
    MUST,
    "SCMP_ACT_LOG lets the system call through",
    breaks_config("the action becomes SCMP_ACT_ERRNO", _edit_rules(action="SCMP_ACT_ERRNO")),
)
def log(ctx: Context) -> None:
    run = ctx.run(MKDIR, _seccomp("SCMP_ACT_LOG"))
    expect_equal(run.stdout.strip(), "rc=0", "mkdir under SCMP_ACT_LOG")


def _kill_rule(op: str, value: int, value_two: int | None) -> list[dict[str, Any]]:
    # kill(pid, sig): the condition is on the signal number, argument 1.
    arg: dict[str, Any] = {"index": 1, "value": value, "op": op}
    if value_two is not None:
        arg["valueTwo"] = value_two
    return [{"names": ["kill"], "action": "SCMP_ACT_ERRNO", "args": [arg]}]


def _args_check(
    op: str, value: int, denied: str, allowed: str, value_two: int | None = None
) -> None:
    """The shell's kill builtin signals itself: -0 is signal 0, -CONT is signal 18."""

    def run(ctx: Context) -> None:
        def configure(config: Config) -> None:
            linux(config)["seccomp"] = {
                "defaultAction": "SCMP_ACT_ALLOW",
                "syscalls": _kill_rule(op, value, value_two),
            }

        script = f"kill -{denied} $$ 2>&1; echo a=$?; kill -{allowed} $$ 2>&1; echo b=$?"
        result = ctx.run(script, configure)
        lines = result.stdout.strip().splitlines()
        expect("a=0" not in lines, f"kill -{denied} was let through: {lines}")
        expect("b=0" in lines, f"kill -{allowed} was blocked: {lines}")

    check(
        f"seccomp.args.{op.removeprefix('SCMP_CMP_').lower().replace('_', '-')}",
        SECCOMP,
        MUST,
        f"a rule with an {op} argument condition matches only calls meeting it",
        breaks_config("argument conditions are dropped", _edit_rules(args=None)),
    )(run)


_args_check("SCMP_CMP_EQ", 0, "0", "CONT")
_args_check("SCMP_CMP_NE", 18, "0", "CONT")
_args_check("SCMP_CMP_GT", 17, "CONT", "0")
_args_check("SCMP_CMP_LT", 1, "0", "CONT")
_args_check("SCMP_CMP_MASKED_EQ", 16, "0", "CONT", value_two=0)  # (sig & 16) == 0


@check(
    "seccomp.mode",
    SECCOMP,
    MUST,
    "the process runs under a seccomp filter (Seccomp: 2 in /proc/<pid>/status)",
    breaks_config("seccomp is dropped", _no_seccomp),
)
def mode(ctx: Context) -> None:
    container = ctx.running(_seccomp())
    expect_equal(procfs.status(container.pid).get("Seccomp"), "2", "Seccomp mode")


@check(
    "seccomp.invalid-action",
    SECCOMP,
    MUST,
    "an unknown action is an error",
    breaks_config("the action is replaced by a valid one", _edit_rules(action="SCMP_ACT_ERRNO")),
)
def invalid_action(ctx: Context) -> None:
    ctx.create_fails(_seccomp("SCMP_ACT_CONFORMANCE"), "seccomp action SCMP_ACT_CONFORMANCE")


@check(
    "seccomp.errnoRet-without-errno",
    SECCOMP,
    MUST,
    "errnoRet on an action that returns no errno (SCMP_ACT_KILL) is an error",
    breaks_config("errnoRet is dropped", _edit_rules(errnoRet=None)),
)
def errno_ret_unsupported(ctx: Context) -> None:
    ctx.create_fails(_seccomp("SCMP_ACT_KILL", errnoRet=1), "errnoRet with SCMP_ACT_KILL")


@check(
    "seccomp.architectures",
    SECCOMP,
    MUST,
    "rules apply with an explicit architectures list",
    breaks_config("the rules are dropped", _edit_filter(syscalls=[])),
)
def architectures(ctx: Context) -> None:
    def configure(config: Config) -> None:
        _seccomp()(config)
        linux(config)["seccomp"]["architectures"] = [
            "SCMP_ARCH_X86_64",
            "SCMP_ARCH_X86",
            "SCMP_ARCH_X32",
        ]

    if platform.machine() != "x86_64":
        skip("the architectures list is written for x86_64")
    run = ctx.run(MKDIR, configure)
    expect("Operation not permitted" in run.stdout, f"mkdir: {run.stdout.strip()!r}")
