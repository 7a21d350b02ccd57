"""hooks: when each kind runs, in which namespace, in what order, with what state, args and env,
and what a failing hook does to the operation.

Every hook is busybox run as `sh -c RECORD cf-hook <label> <dir> <exit code>`: args[0] "sh" is
what makes busybox act as a shell, so a runtime that passed the path as argv[0] would record
nothing. RECORD saves the state read on stdin, the mount namespace, the environment and, while
the container process exists, its command line, then appends the label to <dir>/order.
Runtime-namespace hooks use the host path of the bundle's out directory; startContainer hooks
resolve in the container and use /out.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from conformance import procfs
from conformance.bundle import OUT_DIR, Config
from conformance.checks._common import Mutation, drop_namespace, out_source, wait_for
from conformance.context import Container, Context
from conformance.registry import Level, check, expect, expect_equal, fail
from conformance.sabotage import breaks_config

MUST = Level.MUST
HOOKS = "config.md#configHooks"
LIFECYCLE = "runtime.md#runtimeLifecycle"
SECTION = {
    "prestart": "config.md#configHooksPrestart",
    "createRuntime": "config.md#configHooksCreateRuntime",
    "createContainer": "config.md#configHooksCreateContainer",
    "startContainer": "config.md#configHooksStartContainer",
    "poststart": "config.md#configHooksPoststart",
    "poststop": "config.md#configHooksPoststop",
}
KINDS = tuple(SECTION)
RUNTIME_NS = ("prestart", "createRuntime", "poststart", "poststop")
CONTAINER_NS = ("createContainer", "startContainer")
BUSYBOX = "/bin/busybox"

RECORD = r"""
B=/bin/busybox; l="$1"; d="$2"
$B cat > "$d/$l.state"
$B readlink /proc/self/ns/mnt > "$d/$l.mnt"
$B env > "$d/$l.env"
pid=$($B sed -n 's/.*"pid": *\([0-9][0-9]*\).*/\1/p' "$d/$l.state")
if [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ]; then
    $B tr '\0' ' ' < "/proc/$pid/cmdline" > "$d/$l.cmdline"
fi
echo "$l" >> "$d/order"
exit "${3:-0}"
"""

# Rewrites a hook's args (for sabotages).
ArgsEdit = Callable[[list[str]], list[str]]

USER_PROGRAM = ["sh", "-c", "[ -e /out/startContainer.state ] && echo seen > /out/seen; sleep 3600"]


def hook(kind: str, label: str, host_dir: str, code: int = 0, **extra: Any) -> dict[str, Any]:
    directory = OUT_DIR if kind == "startContainer" else host_dir
    return {
        "path": BUSYBOX,
        "args": ["sh", "-c", RECORD, "cf-hook", label, directory, str(code)],
        **extra,
    }


def _all_hooks(config: Config, failing: str | None = None) -> None:
    """One recording hook of each kind, labelled with its kind; ``failing`` exits 1."""
    host_dir = out_source(config)
    config["hooks"] = {
        kind: [hook(kind, kind, host_dir, 1 if kind == failing else 0)] for kind in KINDS
    }


class Records:
    """What the hooks of one container wrote."""

    def __init__(self, out: Path) -> None:
        self.out = out

    def ran(self, label: str) -> bool:
        return (self.out / f"{label}.state").exists() and label in self.order()

    def order(self) -> list[str]:
        try:
            return (self.out / "order").read_text().split()
        except FileNotFoundError:
            return []

    def text(self, label: str, kind: str) -> str:
        try:
            return (self.out / f"{label}.{kind}").read_text()
        except FileNotFoundError:
            return ""

    def state(self, label: str) -> dict[str, Any]:
        raw = self.text(label, "state")
        if not raw.strip():
            fail(f"the {label} hook got nothing on stdin")
        try:
            state = json.loads(raw)
        except json.JSONDecodeError:
            fail(f"the {label} hook got no JSON on stdin: {raw[:80]!r}")
        if not isinstance(state, dict):
            fail(f"the {label} hook got JSON that is not an object")
        return state


def _through_start(
    ctx: Context, configure: Callable[[Config], None] = _all_hooks
) -> tuple[Container, Records]:
    container = ctx.container(configure, USER_PROGRAM)
    container.create()
    container.start()
    container.wait_exec()
    return container, Records(container.bundle.out)


def _through_delete(
    ctx: Context, configure: Callable[[Config], None] = _all_hooks
) -> tuple[Container, Records]:
    container, records = _through_start(ctx, configure)
    container.kill("KILL")
    container.wait_exit()
    container.wait_status("stopped")
    container.delete()
    return container, records


# -- sabotages -------------------------------------------------------------------------------


def _drop(kind: str) -> Mutation:
    return lambda config: config.get("hooks", {}).pop(kind, None)


def _edit_args(kind: str | None, edit: ArgsEdit) -> Mutation:
    """Rewrite the args of every hook (of ``kind``)."""

    def mutate(config: Config) -> None:
        for name, entries in config.get("hooks", {}).items():
            if kind is None or name == kind:
                for entry in entries:
                    entry["args"] = edit(list(entry.get("args", [])))

    return mutate


def _prefix_script(prefix: str) -> ArgsEdit:
    def edit(args: list[str]) -> list[str]:
        if len(args) > 2:
            args[2] = prefix + args[2]
        return args

    return edit


def _exit_zero(args: list[str]) -> list[str]:
    return [*args[:-1], "0"] if args else args


# Run the hook's script inside the mount namespace of the pid its state names (or of pid 1).
_IN_CONTAINER = (
    'st=$(/bin/busybox cat); pid=$(echo "$st" | /bin/busybox sed -n '
    "'s/.*\"pid\": *\\([0-9][0-9]*\\).*/\\1/p'); "
    'echo "$st" | exec /bin/busybox nsenter -t "$pid" -m -- /bin/busybox sh -c "$0" cf-hook "$@"'
)
_IN_HOST = 'exec /bin/busybox nsenter -t 1 -m -- /bin/busybox sh -c "$0" cf-hook "$@"'


# Feed the hook's script a state whose pid is 1.
_PID_ONE = (
    '/bin/busybox sed \'s/"pid": *[0-9][0-9]*/"pid":1/\' | '
    'exec /bin/busybox sh -c "$0" cf-hook "$@"'
)


def _wrapped(wrapper: str) -> ArgsEdit:
    """Replace ``sh -c SCRIPT cf-hook ARGS`` by ``sh -c WRAPPER SCRIPT ARGS``."""

    def edit(args: list[str]) -> list[str]:
        if len(args) >= 4 and args[:2] == ["sh", "-c"]:
            return ["sh", "-c", wrapper, args[2], *args[4:]]
        return args

    return edit


def _swap(a: str, b: str) -> Mutation:
    def mutate(config: Config) -> None:
        hooks = config.get("hooks", {})
        hooks[a], hooks[b] = hooks.get(b, []), hooks.get(a, [])

    return mutate


# -- when each hook runs ----------------------------------------------------------------------


def _during_create(kind: str) -> None:
    def run(ctx: Context) -> None:
        container = ctx.container(_all_hooks, USER_PROGRAM)
        container.create()
        records = Records(container.bundle.out)
        expect(records.ran(kind), f"no {kind} hook had run when create returned")
        expect(not records.ran("startContainer"), "startContainer ran during create")

    check(
        f"hooks.{kind}.called",
        SECTION[kind],
        MUST,
        f"{kind} hooks are called during create",
        breaks_config(f"{kind} hooks are dropped", _drop(kind)),
    )(run)


for _kind in ("prestart", "createRuntime", "createContainer"):
    _during_create(_kind)


@check(
    "hooks.startContainer.called",
    SECTION["startContainer"],
    MUST,
    "startContainer hooks are called by start, before the user program (path in the container)",
    breaks_config("startContainer hooks are dropped", _drop("startContainer")),
)
def start_container_called(ctx: Context) -> None:
    container, records = _through_start(ctx)
    expect(records.ran("startContainer"), "no startContainer hook ran during start")
    seen = container.bundle.out / "seen"
    expect(wait_for(seen.exists, 3), "the user program ran before the startContainer hook")


@check(
    "hooks.poststart.called",
    SECTION["poststart"],
    MUST,
    "poststart hooks have run when start returns",
    breaks_config("poststart hooks are dropped", _drop("poststart")),
)
def poststart_called(ctx: Context) -> None:
    container = ctx.container(_all_hooks, USER_PROGRAM)
    container.create()
    container.start()
    expect(Records(container.bundle.out).ran("poststart"), "no poststart hook ran by start's end")


@check(
    "hooks.poststart.after-program",
    SECTION["poststart"],
    MUST,
    "poststart hooks run after the user program was executed",
    breaks_config(
        "poststart hooks run as createRuntime hooks", _swap("poststart", "createRuntime")
    ),
)
def poststart_after_program(ctx: Context) -> None:
    _, records = _through_start(ctx)
    cmdline = records.text("poststart", "cmdline").split()
    # The shell may already have exec'd its last command (sleep) by then; both are the program.
    expect(
        cmdline[:2] == ["sh", "-c"] or cmdline == ["sleep", "3600"],
        f"command line of the container process in poststart: {cmdline}",
    )


@check(
    "hooks.poststop.called",
    SECTION["poststop"],
    MUST,
    "poststop hooks have run when delete returns",
    breaks_config("poststop hooks are dropped", _drop("poststop")),
)
def poststop_called(ctx: Context) -> None:
    _, records = _through_delete(ctx)
    expect(records.ran("poststop"), "no poststop hook ran by delete's end")


@check(
    "hooks.order",
    HOOKS,
    MUST,
    "the hook kinds run in lifecycle order: prestart, createRuntime, createContainer, "
    "startContainer, poststart, poststop",
    breaks_config(
        "createRuntime and createContainer hooks trade places",
        _swap("createRuntime", "createContainer"),
    ),
)
def order(ctx: Context) -> None:
    _, records = _through_delete(ctx)
    expect_equal(records.order(), list(KINDS), "order the hooks ran in")


@check(
    "hooks.listed-order",
    HOOKS,
    MUST,
    "hooks of one kind run in the listed order",
    breaks_config(
        "the createRuntime hooks run in reverse",
        lambda c: c.get("hooks", {}).get("createRuntime", []).reverse(),
    ),
)
def listed_order(ctx: Context) -> None:
    def configure(config: Config) -> None:
        host_dir = out_source(config)
        config["hooks"] = {
            "createRuntime": [hook("createRuntime", f"h{i}", host_dir) for i in range(1, 4)]
        }

    container = ctx.container(configure)
    container.create()
    expect_equal(Records(container.bundle.out).order(), ["h1", "h2", "h3"], "order")


# -- the state on stdin -----------------------------------------------------------------------


def _state_check(kind: str) -> None:
    def run(ctx: Context) -> None:
        container, records = _through_delete(ctx)
        state = records.state(kind)
        expect_equal(state.get("id"), container.id, f"id in the {kind} hook's state")
        bundle = state.get("bundle")
        expect(
            isinstance(bundle, str)
            and os.path.realpath(bundle) == str(container.bundle.path.resolve()),
            f"bundle in the {kind} hook's state: {bundle!r}",
        )
        expect(isinstance(state.get("status"), str), f"status in the {kind} hook's state")

    check(
        f"hooks.{kind}.state",
        HOOKS,
        MUST,
        f"{kind} hooks get the container state (id, status, bundle) on stdin",
        breaks_config(
            f"{kind} hooks get nothing on stdin",
            _edit_args(kind, _prefix_script("exec </dev/null; ")),
        ),
    )(run)


for _kind in KINDS:
    _state_check(_kind)


@check(
    "hooks.state.pid",
    "runtime.md#runtimeState",
    MUST,
    "runtime-namespace hooks get the container pid as the runtime sees it",
    breaks_config(
        "createRuntime hooks get pid 1",
        _edit_args("createRuntime", _wrapped(_PID_ONE)),
    ),
)
def state_pid(ctx: Context) -> None:
    container, records = _through_start(ctx)
    expect_equal(records.state("createRuntime").get("pid"), container.pid, "pid in the state")


@check(
    "hooks.state.annotations",
    HOOKS,
    MUST,
    "the state given to hooks carries the config's annotations",
    breaks_config(
        "the annotations are removed from the config", lambda c: c.pop("annotations", None)
    ),
)
def state_annotations(ctx: Context) -> None:
    def configure(config: Config) -> None:
        _all_hooks(config)
        config["annotations"] = {"org.example.hooks": "yes"}

    _, records = _through_start(ctx, configure)
    annotations = records.state("createRuntime").get("annotations")
    expect_equal(annotations, {"org.example.hooks": "yes"}, "annotations in the hook's state")


def _container_state_pid(kind: str) -> None:
    def run(ctx: Context) -> None:
        _, records = _through_start(ctx)
        expect_equal(records.state(kind).get("pid"), 1, f"pid in the {kind} hook's state")

    check(
        f"hooks.{kind}.state-pid",
        "runtime.md#runtimeState",
        MUST,
        f"{kind} hooks (container namespace) get the pid as the container sees it: 1",
        breaks_config("the pid namespace is left out", lambda c: drop_namespace(c, "pid")),
    )(run)


for _kind in CONTAINER_NS:
    _container_state_pid(_kind)


# -- namespaces ------------------------------------------------------------------------------


def _namespace_check(kind: str) -> None:
    in_runtime = kind in RUNTIME_NS

    def run(ctx: Context) -> None:
        container, records = (_through_delete if kind == "poststop" else _through_start)(ctx)
        seen = records.text(kind, "mnt").strip()
        expect(seen, f"the {kind} hook recorded no mount namespace")
        want = procfs.ns_link("self", "mnt") if in_runtime else _container_mnt(container)
        expect_equal(seen, want, f"mount namespace of {kind}")

    if in_runtime:
        sabotage = breaks_config(
            f"{kind} hooks run in the container's mount namespace",
            _edit_args(kind, _wrapped(_IN_CONTAINER)),
        )
    elif kind == "createContainer":
        sabotage = breaks_config(
            "createContainer hooks run in the host's mount namespace",
            _edit_args(kind, _wrapped(_IN_HOST)),
        )
    else:
        sabotage = breaks_config(f"{kind} hooks are dropped", _drop(kind))
    check(
        f"hooks.{kind}.namespace",
        SECTION[kind],
        MUST,
        f"{kind} hooks run in the {'runtime' if in_runtime else 'container'} mount namespace",
        sabotage,
    )(run)


def _container_mnt(container: Container) -> str:
    return procfs.ns_link(container.pid, "mnt")


for _kind in KINDS:
    _namespace_check(_kind)


# -- args and env ----------------------------------------------------------------------------


def _set_hook_env(env: list[str]) -> Mutation:
    def mutate(config: Config) -> None:
        for entry in config.get("hooks", {}).get("createRuntime", []):
            entry["env"] = list(env)

    return mutate


@check(
    "hooks.args",
    HOOKS,
    MUST,
    "hook args are the argv of the hook (args[0] included)",
    breaks_config(
        "the hook's arguments are changed",
        _edit_args("createRuntime", lambda a: [*a[:-1], "changed"] if a else a),
    ),
)
def args(ctx: Context) -> None:
    def configure(config: Config) -> None:
        target = f"{out_source(config)}/argv"
        script = f'echo "$0|$1|$2" > {target}'
        config["hooks"] = {
            "createRuntime": [
                {"path": BUSYBOX, "args": ["sh", "-c", script, "zero", "one two", "three"]}
            ]
        }

    container = ctx.container(configure)
    container.create()
    got = (container.bundle.out / "argv").read_text().strip()
    expect_equal(got, "zero|one two|three", "argv seen by the hook")


@check(
    "hooks.env",
    HOOKS,
    MUST,
    "hook env is the environment of the hook",
    breaks_config("the hook's env is changed", _set_hook_env(["CF_HOOK=changed"])),
)
def env(ctx: Context) -> None:
    def configure(config: Config) -> None:
        host_dir = out_source(config)
        config["hooks"] = {
            "createRuntime": [
                hook("createRuntime", "createRuntime", host_dir, env=["CF_HOOK=a=b", "CF_TWO=2"])
            ]
        }

    container = ctx.container(configure)
    container.create(extra_env={"CF_RUNTIME_LEAK": "1"})
    environ = Records(container.bundle.out).text("createRuntime", "env").splitlines()
    expect("CF_HOOK=a=b" in environ and "CF_TWO=2" in environ, f"hook environment: {environ}")


@check(
    "hooks.env.no-leak",
    HOOKS,
    MUST,
    "a hook's environment is its env, not the runtime's",
    breaks_config("the runtime's variable is added", _set_hook_env(["CF_RUNTIME_LEAK=1"])),
)
def env_no_leak(ctx: Context) -> None:
    def configure(config: Config) -> None:
        host_dir = out_source(config)
        config["hooks"] = {
            "createRuntime": [hook("createRuntime", "createRuntime", host_dir, env=["CF_A=1"])]
        }

    container = ctx.container(configure)
    container.create(extra_env={"CF_RUNTIME_LEAK": "1"})
    environ = Records(container.bundle.out).text("createRuntime", "env").splitlines()
    expect(environ, "the hook recorded no environment")
    expect("CF_RUNTIME_LEAK=1" not in environ, "the runtime's environment leaked into the hook")


# -- failing hooks ---------------------------------------------------------------------------


def _failing_create(kind: str) -> None:
    def run(ctx: Context) -> None:
        container = ctx.container(lambda c: _all_hooks(c, failing=kind), USER_PROGRAM)
        result = container.create(expect_ok=False)
        expect(not result.ok, f"create succeeded although a {kind} hook failed")
        state = ctx.runtime.state(container.id)
        if state.ok:
            status = json.loads(state.stdout).get("status")
            expect(status == "stopped", f"the container is {status} after the failed create")

    check(
        f"hooks.{kind}.failure",
        LIFECYCLE,
        MUST,
        f"a failing {kind} hook makes create fail and stops the container",
        breaks_config(f"failing {kind} hooks exit 0", _edit_args(kind, _exit_zero)),
    )(run)


for _kind in ("prestart", "createRuntime", "createContainer"):
    _failing_create(_kind)


@check(
    "hooks.startContainer.failure",
    LIFECYCLE,
    MUST,
    "a failing startContainer hook makes start fail; the user program does not run",
    breaks_config("failing startContainer hooks exit 0", _edit_args("startContainer", _exit_zero)),
)
def start_container_failure(ctx: Context) -> None:
    container = ctx.container(lambda c: _all_hooks(c, failing="startContainer"), USER_PROGRAM)
    container.create()
    result = container.start(expect_ok=False)
    expect(not result.ok, "start succeeded although a startContainer hook failed")
    time.sleep(0.3)
    expect(not (container.bundle.out / "seen").exists(), "the user program ran")


@check(
    "hooks.poststart.failure",
    LIFECYCLE,
    MUST,
    "a failing poststart hook makes start fail and stops the container",
    breaks_config("failing poststart hooks exit 0", _edit_args("poststart", _exit_zero)),
)
def poststart_failure(ctx: Context) -> None:
    container = ctx.container(lambda c: _all_hooks(c, failing="poststart"), USER_PROGRAM)
    container.create()
    result = container.start(expect_ok=False)
    expect(not result.ok, "start succeeded although a poststart hook failed")
    state = ctx.runtime.state(container.id)
    if state.ok:
        status = json.loads(state.stdout).get("status")
        expect(status == "stopped", f"the container is {status} after the failed poststart")


def _first_poststop_only(config: Config) -> None:
    hooks = config.get("hooks", {})
    hooks["poststop"] = hooks.get("poststop", [])[:1]


@check(
    "hooks.poststop.failure",
    LIFECYCLE,
    MUST,
    "a failing poststop hook is only a warning: delete succeeds and later poststop hooks run",
    breaks_config("the poststop hooks after the failing one are dropped", _first_poststop_only),
)
def poststop_failure(ctx: Context) -> None:
    def configure(config: Config) -> None:
        host_dir = out_source(config)
        config["hooks"] = {
            "poststop": [
                hook("poststop", "first", host_dir, code=1),
                hook("poststop", "second", host_dir),
            ]
        }

    container = ctx.container(configure, ["true"])
    container.create()
    container.start()
    container.wait_exit()
    container.wait_status("stopped")
    container.delete()
    expect_equal(Records(container.bundle.out).order(), ["first", "second"], "poststop hooks run")


def _no_timeouts(config: Config) -> None:
    for entries in config.get("hooks", {}).values():
        for entry in entries:
            entry.pop("timeout", None)


@check(
    "hooks.timeout",
    HOOKS,
    MUST,
    "a hook running longer than its timeout is aborted and fails the operation",
    breaks_config("timeouts are ignored", _no_timeouts),
)
def timeout(ctx: Context) -> None:
    def configure(config: Config) -> None:
        config["hooks"] = {
            "createRuntime": [{"path": BUSYBOX, "args": ["sleep", "30"], "timeout": 1}]
        }

    container = ctx.container(configure)
    begin = time.monotonic()
    result = container.create(expect_ok=False)
    took = time.monotonic() - begin
    expect(not result.ok, f"create succeeded although the hook outlived its timeout ({took:.1f}s)")
    # Well under the hook's 30 s, with room for a slow host (an emulated guest's
    # create alone takes seconds).
    expect(took < 20, f"create took {took:.1f}s; the 1s timeout was not enforced")
