"""The operations (create, start, kill, delete, state) and their errors in wrong states."""

from __future__ import annotations

import json
import time
from pathlib import Path

from conformance import cgroupfs
from conformance.bundle import Config
from conformance.checks._common import breaks_create, linux, out_source, wait_for
from conformance.context import Container, Context
from conformance.registry import Level, check, expect, expect_equal
from conformance.sabotage import (
    breaks_bundle,
    breaks_config,
    hides_failure,
    ignores,
    lies_in_state,
    rereads_config,
    runs_after,
    runs_before,
)

MUST = Level.MUST
MAY = Level.MAY
CREATE = "runtime.md#runtimeCreate"
START = "runtime.md#runtimeStart"
KILL = "runtime.md#runtimeKill"
DELETE = "runtime.md#runtimeDelete"
QUERY = "runtime.md#runtimeQueryState"
LIFECYCLE = "runtime.md#runtimeLifecycle"

# A process that leaves a mark and then stays: the mark says the user program ran.
MARK_AND_WAIT = ["sh", "-c", "echo ran >> /out/ran; sleep 3600"]
TRAP_TERM = ["sh", "-c", "trap 'echo TERM > /out/signal; exit 0' TERM; while :; do sleep 0.1; done"]


def _ran(out: Path) -> str:
    try:
        return (out / "ran").read_text()
    except FileNotFoundError:
        return ""


def _stopped(ctx: Context, args: list[str] | None = None) -> Container:
    """A container whose process already exited."""
    container = ctx.created(args=args or ["true"])
    container.start()
    container.wait_exit()
    container.wait_status("stopped")
    return container


# -- create -----------------------------------------------------------------------------------


@check(
    "lifecycle.create",
    CREATE,
    MUST,
    "create makes a new container that state reports as created",
    ignores("create is not passed on", "create"),
)
def create_creates(ctx: Context) -> None:
    container = ctx.container(args=MARK_AND_WAIT)
    container.create()
    expect_equal(container.status(), "created", "status after create")


@check(
    "lifecycle.create.program-not-run",
    CREATE,
    MUST,
    "create does not run the user program (process.args wait for start)",
    runs_after("create also starts the container", "create", "start"),
)
def create_does_not_run(ctx: Context) -> None:
    container = ctx.container(args=MARK_AND_WAIT)
    container.create()
    time.sleep(0.3)
    expect(not _ran(container.bundle.out), "the user program ran during create")
    container.start()
    expect(wait_for(lambda: bool(_ran(container.bundle.out))), "start did not run the program")


@check(
    "lifecycle.create.duplicate-id",
    CREATE,
    MUST,
    "create with the id of an existing container is an error",
    hides_failure("create reports success for a duplicate id", "create"),
)
def create_duplicate(ctx: Context) -> None:
    first = ctx.created()
    second = ctx.adopt(ctx.bundle(args=["true"]), container_id=first.id)
    result = second.create(expect_ok=False)
    expect(not result.ok, "create accepted an id that is already in use")


@check(
    "lifecycle.create.duplicate-id-no-effect",
    CREATE,
    MUST,
    "a rejected duplicate create leaves the existing container untouched",
    runs_before("create first deletes any container with that id", "create", "delete", "--force"),
)
def create_duplicate_no_effect(ctx: Context) -> None:
    first = ctx.created()
    before = first.state()
    second = ctx.adopt(ctx.bundle(args=["true"]), container_id=first.id)
    second.create(expect_ok=False)
    after = first.state()
    expect_equal(after.get("status"), "created", "status of the existing container")
    expect_equal(after.get("pid"), before.get("pid"), "pid of the existing container")
    expect_equal(after.get("bundle"), before.get("bundle"), "bundle of the existing container")


@check(
    "lifecycle.create.no-config",
    CREATE,
    MUST,
    "create of a bundle without config.json is an error and makes no container",
    hides_failure("create reports success without a config", "create"),
)
def create_no_config(ctx: Context) -> None:
    container = ctx.container()
    (container.bundle.path / "config.json").unlink()
    result = container.create(expect_ok=False)
    expect(not result.ok, "create accepted a bundle without config.json")
    expect(not ctx.runtime.state(container.id).ok, "a container exists after the failed create")


@check(
    "lifecycle.create.bad-json",
    CREATE,
    MUST,
    "create with a config.json that is not JSON is an error and makes no container",
    hides_failure("create reports success for a broken config", "create"),
)
def create_bad_json(ctx: Context) -> None:
    container = ctx.container()
    (container.bundle.path / "config.json").write_text('{"ociVersion": "1.0.2", ')
    result = container.create(expect_ok=False)
    expect(not result.ok, "create accepted a config.json that is not JSON")
    expect(not ctx.runtime.state(container.id).ok, "a container exists after the failed create")


@check(
    "lifecycle.create.no-id",
    CREATE,
    MUST,
    "create without a container id is an error",
    hides_failure("create reports success without an id", "create"),
)
def create_no_id(ctx: Context) -> None:
    bundle = ctx.bundle()
    result = ctx.runtime.call("create", "--bundle", str(bundle.path))
    expect(not result.ok, "create without an id succeeded")


@check(
    "lifecycle.create.config-snapshot",
    LIFECYCLE,
    MUST,
    "changes to config.json after create do not affect the container",
    rereads_config("start recreates the container from the current config.json"),
)
def config_changes_ignored(ctx: Context) -> None:
    container = ctx.container(args=["sh", "-c", "echo original > /out/which"])
    container.create()
    changed = dict(container.bundle.config)
    changed["process"] = dict(changed["process"], args=["sh", "-c", "echo changed > /out/which"])
    (container.bundle.path / "config.json").write_text(json.dumps(changed))
    container.start()
    which = container.bundle.out / "which"
    expect(wait_for(which.exists), "the container process wrote nothing")
    expect_equal(which.read_text().strip(), "original", "program that ran")


@check(
    "lifecycle.create.error-leaves-nothing",
    "runtime.md#runtimeErrors",
    MUST,
    "a failed create leaves no container and no cgroup behind",
    breaks_config(
        "the runtime drops the bad mount and creates the container anyway",
        lambda c: c.__setitem__(
            "mounts", [m for m in c["mounts"] if "/nonexistent" not in str(m.get("source"))]
        ),
    ),
)
def error_leaves_nothing(ctx: Context) -> None:
    def bad_mount(config: Config) -> None:
        config["mounts"].append(
            {
                "destination": "/cf-missing",
                "type": "bind",
                "source": "/nonexistent/conformance-source",
                "options": ["rbind"],
            }
        )

    container = ctx.container(bad_mount)
    result = container.create(expect_ok=False)
    expect(not result.ok, "create accepted a bind mount of a missing source")
    expect(not ctx.runtime.state(container.id).ok, "a container exists after the failed create")
    path = container.bundle.config["linux"]["cgroupsPath"].lstrip("/")
    left = [
        str(h.mountpoint / path) for h in cgroupfs.hierarchies() if (h.mountpoint / path).exists()
    ]
    expect(not left, f"cgroup left behind: {', '.join(left)}")


# -- start ------------------------------------------------------------------------------------


@check(
    "lifecycle.start",
    START,
    MUST,
    "start runs the user program",
    ignores("start is not passed on", "start"),
)
def start_runs(ctx: Context) -> None:
    container = ctx.created(args=MARK_AND_WAIT)
    container.start()
    expect(wait_for(lambda: bool(_ran(container.bundle.out))), "the user program did not run")


@check(
    "lifecycle.start.twice",
    START,
    MUST,
    "start on a running container is an error",
    hides_failure("start always reports success", "start"),
)
def start_twice(ctx: Context) -> None:
    container = ctx.running(args=MARK_AND_WAIT)
    result = container.start(expect_ok=False)
    expect(not result.ok, "a second start succeeded")


@check(
    "lifecycle.start.twice-no-effect",
    START,
    MUST,
    "a rejected second start leaves the running container untouched",
    runs_after("start is followed by kill KILL", "start", "kill", "{id}", "KILL"),
)
def start_twice_no_effect(ctx: Context) -> None:
    container = ctx.running(args=MARK_AND_WAIT)
    expect(wait_for(lambda: bool(_ran(container.bundle.out))), "the user program did not run")
    pid = container.pid
    container.start(expect_ok=False)
    time.sleep(0.2)
    state = container.state()
    expect_equal(state.get("status"), "running", "status after the second start")
    expect_equal(state.get("pid"), pid, "pid after the second start")
    expect_equal(_ran(container.bundle.out).count("ran"), 1, "times the program ran")


@check(
    "lifecycle.start.stopped",
    START,
    MUST,
    "start on a stopped container is an error",
    hides_failure("start always reports success", "start"),
)
def start_stopped(ctx: Context) -> None:
    container = _stopped(ctx)
    result = container.start(expect_ok=False)
    expect(not result.ok, "start of a stopped container succeeded")


@check(
    "lifecycle.start.stopped-no-effect",
    START,
    MUST,
    "a rejected start leaves the stopped container as it was",
    runs_after("start is followed by delete --force", "start", "delete", "--force"),
)
def start_stopped_no_effect(ctx: Context) -> None:
    container = _stopped(ctx, ["sh", "-c", "echo ran >> /out/ran"])
    container.start(expect_ok=False)
    time.sleep(0.2)
    expect_equal(container.status(), "stopped", "status after start on a stopped container")
    expect_equal(_ran(container.bundle.out).count("ran"), 1, "times the program ran")


@check(
    "lifecycle.start.unknown-id",
    START,
    MUST,
    "start of an unknown container id is an error",
    hides_failure("start always reports success", "start"),
)
def start_unknown(ctx: Context) -> None:
    result = ctx.runtime.start(ctx.session.next_id())
    expect(not result.ok, "start of an unknown id succeeded")


@check(
    "lifecycle.start.no-id",
    START,
    MUST,
    "start without a container id is an error",
    hides_failure("start always reports success", "start"),
)
def start_no_id(ctx: Context) -> None:
    expect(not ctx.runtime.call("start").ok, "start without an id succeeded")


@check(
    "lifecycle.start.no-process",
    START,
    MUST,
    "a container without process cannot be started",
    breaks_config(
        "the runtime supplies a process of its own",
        lambda c: c.setdefault(
            "process", {"args": ["/bin/true"], "cwd": "/", "user": {"uid": 0, "gid": 0}}
        ),
    ),
)
def start_without_process(ctx: Context) -> str | None:
    container = ctx.container(lambda c: c.pop("process"))
    if not container.create(expect_ok=False).ok:
        return "create already refused the config without process"
    expect(not container.start(expect_ok=False).ok, "start succeeded without a process")
    return None


# -- kill -------------------------------------------------------------------------------------


@check(
    "lifecycle.kill.signal",
    KILL,
    MUST,
    "kill sends the given signal to the container process",
    ignores("kill is not passed on", "kill"),
)
def kill_signal(ctx: Context) -> None:
    container = ctx.running(args=TRAP_TERM)
    time.sleep(0.2)  # let the shell install its trap
    container.kill("TERM")
    mark = container.bundle.out / "signal"
    expect(wait_for(mark.exists), "the process did not receive SIGTERM")


@check(
    "lifecycle.kill.running-stops",
    KILL,
    MUST,
    "kill KILL of a running container leaves it stopped",
    ignores("kill is not passed on", "kill"),
)
def kill_running(ctx: Context) -> None:
    container = ctx.running()
    container.kill("KILL")
    container.wait_status("stopped")


@check(
    "lifecycle.kill.created",
    KILL,
    MUST,
    "kill of a created (not yet started) container is accepted and signals it",
    ignores("kill is not passed on", "kill"),
)
def kill_created(ctx: Context) -> None:
    container = ctx.created()
    container.kill("KILL")
    container.wait_status("stopped")


@check(
    "lifecycle.kill.stopped",
    KILL,
    MUST,
    "kill of a stopped container is an error",
    hides_failure("kill always reports success", "kill"),
)
def kill_stopped(ctx: Context) -> None:
    container = _stopped(ctx)
    expect(not container.kill("KILL", expect_ok=False).ok, "kill of a stopped container succeeded")


@check(
    "lifecycle.kill.stopped-no-effect",
    KILL,
    MUST,
    "a rejected kill leaves the stopped container as it was",
    runs_after("kill is followed by delete --force", "kill", "delete", "--force"),
)
def kill_stopped_no_effect(ctx: Context) -> None:
    container = _stopped(ctx)
    before = container.state()
    container.kill("KILL", expect_ok=False)
    after = container.state()
    expect_equal(after.get("status"), "stopped", "status after kill of a stopped container")
    expect_equal(after.get("bundle"), before.get("bundle"), "bundle after the rejected kill")


@check(
    "lifecycle.kill.unknown-id",
    KILL,
    MUST,
    "kill of an unknown container id is an error",
    hides_failure("kill always reports success", "kill"),
)
def kill_unknown(ctx: Context) -> None:
    result = ctx.runtime.kill(ctx.session.next_id(), "KILL")
    expect(not result.ok, "kill of an unknown id succeeded")


@check(
    "lifecycle.kill.no-id",
    KILL,
    MUST,
    "kill without a container id is an error",
    hides_failure("kill always reports success", "kill"),
)
def kill_no_id(ctx: Context) -> None:
    expect(not ctx.runtime.call("kill").ok, "kill without an id succeeded")


# -- delete -----------------------------------------------------------------------------------


@check(
    "lifecycle.delete.stopped",
    DELETE,
    MUST,
    "delete of a stopped container removes it",
    ignores("delete is not passed on", "delete"),
)
def delete_stopped(ctx: Context) -> None:
    container = _stopped(ctx)
    container.delete()
    expect(not ctx.runtime.state(container.id).ok, "state still answers after delete")


@check(
    "lifecycle.delete.running",
    DELETE,
    MUST,
    "delete (without force) of a running container is an error",
    hides_failure("delete always reports success", "delete"),
)
def delete_running(ctx: Context) -> None:
    container = ctx.running()
    expect(not container.delete(expect_ok=False).ok, "delete of a running container succeeded")


@check(
    "lifecycle.delete.running-no-effect",
    DELETE,
    MUST,
    "a rejected delete leaves the running container running",
    runs_before("delete first kills the container", "delete", "kill", "{id}", "KILL"),
)
def delete_running_no_effect(ctx: Context) -> None:
    container = ctx.running()
    pid = container.pid
    container.delete(expect_ok=False)
    time.sleep(0.1)
    state = ctx.runtime.state(container.id)
    expect(state.ok, "the container is gone after a rejected delete")
    expect_equal(container.status(), "running", "status after the rejected delete")
    expect_equal(container.state().get("pid"), pid, "pid after the rejected delete")


@check(
    "lifecycle.delete.created",
    DELETE,
    MUST,
    "delete (without force) of a created container is an error and leaves it created",
    hides_failure("delete always reports success", "delete"),
)
def delete_created(ctx: Context) -> None:
    container = ctx.created()
    result = container.delete(expect_ok=False)
    expect(not result.ok, "delete of a created (not stopped) container succeeded")
    expect_equal(container.status(), "created", "status after the rejected delete")


@check(
    "lifecycle.delete.unknown-id",
    DELETE,
    MUST,
    "delete of an unknown container id is an error",
    hides_failure("delete always reports success", "delete"),
)
def delete_unknown(ctx: Context) -> None:
    expect(not ctx.runtime.delete(ctx.session.next_id()).ok, "delete of an unknown id succeeded")


@check(
    "lifecycle.delete.no-id",
    DELETE,
    MUST,
    "delete without a container id is an error",
    hides_failure("delete always reports success", "delete"),
)
def delete_no_id(ctx: Context) -> None:
    expect(not ctx.runtime.call("delete").ok, "delete without an id succeeded")


def _recreate_cgroup(config: Config, _bundle: object) -> None:
    """A poststop hook that puts the container's cgroup back after the runtime removed it."""
    path = linux(config).get("cgroupsPath", "")
    dirs = [str(h.mountpoint / path.lstrip("/")) for h in cgroupfs.hierarchies()]
    hooks = config.setdefault("hooks", {})
    hooks.setdefault("poststop", []).append({"path": "/bin/mkdir", "args": ["mkdir", "-p", *dirs]})


@check(
    "lifecycle.delete.cgroup",
    DELETE,
    MUST,
    "delete removes the cgroup the runtime created for the container",
    breaks_bundle("a poststop hook recreates the container's cgroup", _recreate_cgroup),
)
def delete_removes_cgroup(ctx: Context) -> None:
    container = ctx.running()
    paths = cgroupfs.process_paths(container.pid)
    wanted = container.bundle.config["linux"]["cgroupsPath"]
    dirs = [
        h.mountpoint / wanted.lstrip("/")
        for h in cgroupfs.hierarchies()
        if (h.mountpoint / wanted.lstrip("/")).is_dir()
    ]
    expect(dirs and wanted in paths.values(), f"container not in cgroup {wanted}: {paths}")
    container.kill("KILL")
    container.wait_exit()
    container.wait_status("stopped")
    container.delete()
    left = [str(d) for d in dirs if d.exists()]
    expect(not left, f"cgroup left after delete: {', '.join(left)}")


def _remove_out_dir(config: Config) -> None:
    source = out_source(config)
    config.setdefault("hooks", {}).setdefault("poststop", []).append(
        {"path": "/bin/rm", "args": ["rm", "-rf", source]}
    )


@check(
    "lifecycle.delete.keeps-foreign",
    DELETE,
    MUST,
    "delete leaves resources it did not create (bind-mount sources, the bundle) alone",
    breaks_config("a poststop hook removes the bind-mount source", _remove_out_dir),
)
def delete_keeps_foreign(ctx: Context) -> None:
    container = ctx.container(args=["sh", "-c", "echo kept > /out/kept"])
    container.create()
    container.start()
    container.wait_exit()
    container.wait_status("stopped")
    container.delete()
    kept = container.bundle.out / "kept"
    expect(kept.exists() and kept.read_text().strip() == "kept", "bind-mount source content gone")
    expect((container.bundle.rootfs / "bin" / "busybox").exists(), "bundle rootfs damaged")
    expect((container.bundle.path / "config.json").exists(), "config.json gone")


@check(
    "lifecycle.delete.id-reusable",
    DELETE,
    MAY,
    "after delete the id can be used for a new container",
    ignores("delete is not passed on", "delete"),
)
def delete_reuse(ctx: Context) -> None:
    container = _stopped(ctx)
    container.delete()
    again = ctx.adopt(ctx.bundle(args=["true"]), container_id=container.id)
    result = again.create(expect_ok=False)
    expect(result.ok, f"create with a reused id failed: {result.summary()}")


# -- state and the lifecycle as a whole -------------------------------------------------------


@check(
    "lifecycle.state.unknown-id",
    QUERY,
    MUST,
    "state of an unknown container id is an error",
    hides_failure("state always reports success", "state"),
)
def state_unknown(ctx: Context) -> None:
    expect(not ctx.runtime.state(ctx.session.next_id()).ok, "state of an unknown id succeeded")


@check(
    "lifecycle.state.no-id",
    QUERY,
    MUST,
    "state without a container id is an error",
    hides_failure("state always reports success", "state"),
)
def state_no_id(ctx: Context) -> None:
    expect(not ctx.runtime.call("state").ok, "state without an id succeeded")


@check(
    "lifecycle.exit-stops",
    LIFECYCLE,
    MUST,
    "when the container process exits the container is stopped",
    lies_in_state(
        "state reports a stopped container as running",
        lambda s: s.__setitem__("status", "running") if s.get("status") == "stopped" else None,
    ),
)
def exit_stops(ctx: Context) -> None:
    _stopped(ctx)


@check(
    "lifecycle.scope",
    "runtime.md#runtimeScopeContainer",
    MUST,
    "the creator can use every operation on its container (state, start, kill, delete)",
    ignores("state is not passed on", "state"),
)
def scope(ctx: Context) -> None:
    container = ctx.created()
    expect_equal(container.status(), "created", "status after create")
    container.start()
    expect_equal(container.status(), "running", "status after start")
    container.kill("KILL")
    container.wait_status("stopped")
    container.delete()
    expect(not ctx.runtime.state(container.id).ok, "container still exists after delete")


@check(
    "lifecycle.unsupported-value",
    "config.md#valid-values",
    MUST,
    "a config value the runtime cannot apply (unknown namespace type) is an error",
    breaks_config(
        "the runtime silently drops what it does not know",
        lambda c: c["linux"].__setitem__(
            "namespaces", [n for n in c["linux"]["namespaces"] if n["type"] != "conformance"]
        ),
    ),
)
def unsupported_value(ctx: Context) -> None:
    ctx.create_fails(
        lambda c: c["linux"]["namespaces"].append({"type": "conformance"}),
        "an unknown namespace type",
    )


@check(
    "lifecycle.unknown-property",
    "config.md#configExtensibility",
    MUST,
    "unknown properties in config.json are ignored, not an error",
    breaks_create("the runtime rejects the config"),
)
def unknown_property(ctx: Context) -> None:
    def add_unknown(config: Config) -> None:
        config["org.example.conformance"] = {"unknown": True}
        config["process"]["org.example.unknown"] = 1
        config["linux"]["org.example.unknown"] = "x"

    container = ctx.container(add_unknown, args=["true"])
    container.create()
