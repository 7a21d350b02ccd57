"""The state a runtime reports: fields, status at each step, pid, bundle, annotations."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable

from conformance import procfs
from conformance.context import Context
from conformance.registry import Level, check, expect, expect_equal, fail
from conformance.sabotage import lies_in_state

MUST = Level.MUST
MAY = Level.MAY
STATE = "runtime.md#runtimeState"
QUERY = "runtime.md#runtimeQueryState"

SEMVER = re.compile(r"^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$")
ANNOTATIONS = {"org.example.conformance/key": "value", "com.example.empty": ""}


def _when(status: str, key: str, value: object) -> Callable[[dict], None]:
    """A state mutation that sets ``key`` only while the container has ``status``."""

    def mutate(state: dict) -> None:
        if state.get("status") == status:
            state[key] = value

    return mutate


@check(
    "state.json",
    QUERY,
    MUST,
    "state prints the container's state as a JSON object",
    lies_in_state("state prints something that is not JSON", lambda s: "state: created\n"),
)
def state_json(ctx: Context) -> None:
    container = ctx.created()
    result = ctx.runtime.state(container.id)
    expect(result.ok, f"state failed: {result.summary()}")
    try:
        doc = json.loads(result.stdout)
    except ValueError as exc:
        fail(f"state output is not JSON: {exc}: {result.stdout[:80]!r}")
    expect(isinstance(doc, dict), "state output is not a JSON object")


@check(
    "state.ociVersion",
    STATE,
    MUST,
    "state has ociVersion, a SemVer string",
    lies_in_state("state has no ociVersion", lambda s: s.pop("ociVersion", None) and None),
)
def state_oci_version(ctx: Context) -> None:
    version = ctx.created().state().get("ociVersion")
    expect(isinstance(version, str), f"ociVersion missing or not a string: {version!r}")
    expect(SEMVER.match(str(version)), f"ociVersion is not SemVer: {version!r}")


@check(
    "state.id",
    STATE,
    MUST,
    "state.id is the container's id",
    lies_in_state("state reports another id", lambda s: s.__setitem__("id", "someone-else")),
)
def state_id(ctx: Context) -> None:
    container = ctx.created()
    expect_equal(container.state().get("id"), container.id, "state.id")


@check(
    "state.status.created",
    STATE,
    MUST,
    "status is 'created' after create, before start",
    lies_in_state("state says running instead of created", _when("created", "status", "running")),
)
def status_created(ctx: Context) -> None:
    expect_equal(ctx.created().state().get("status"), "created", "status after create")


@check(
    "state.status.running",
    STATE,
    MUST,
    "status is 'running' while the user program runs",
    lies_in_state("state says created instead of running", _when("running", "status", "created")),
)
def status_running(ctx: Context) -> None:
    expect_equal(ctx.running().state().get("status"), "running", "status after start")


@check(
    "state.status.stopped",
    STATE,
    MUST,
    "status is 'stopped' once the container process exited",
    lies_in_state("state says running instead of stopped", _when("stopped", "status", "running")),
)
def status_stopped(ctx: Context) -> None:
    container = ctx.created(args=["true"])
    container.start()
    container.wait_exit()
    container.wait_status("stopped", timeout=3)


@check(
    "state.pid.created",
    STATE,
    MUST,
    "pid is set while created and names a live process",
    lies_in_state("state has no pid while created", _when("created", "pid", None)),
)
def pid_created(ctx: Context) -> None:
    container = ctx.created()
    pid = container.state().get("pid")
    expect(isinstance(pid, int) and pid > 0, f"pid while created: {pid!r}")
    expect(procfs.alive(int(str(pid))), f"pid {pid} is not a live process")


@check(
    "state.pid.running",
    STATE,
    MUST,
    "pid while running is the process running the user program",
    lies_in_state("state reports pid 1", _when("running", "pid", 1)),
)
def pid_running(ctx: Context) -> None:
    container = ctx.running(args=["sleep", "3601"])
    pid = container.state().get("pid")
    expect(isinstance(pid, int) and pid > 0, f"pid while running: {pid!r}")
    expect_equal(procfs.cmdline(pid), ["sleep", "3601"], f"command line of pid {pid}")


@check(
    "state.pid.container-process",
    STATE,
    MUST,
    "pid while created is a process inside the container's namespaces",
    lies_in_state("state reports our own pid", _when("created", "pid", os.getpid())),
)
def pid_in_container(ctx: Context) -> None:
    pid = ctx.created().state().get("pid")
    expect(isinstance(pid, int) and pid > 0, f"pid while created: {pid!r}")
    for ns in ("pid", "uts", "mnt"):
        expect(
            procfs.ns_link(str(pid), ns) != procfs.ns_link("self", ns),
            f"pid {pid} is in the runtime's {ns} namespace, not the container's",
        )


@check(
    "state.bundle.absolute",
    STATE,
    MUST,
    "bundle is the absolute path of the bundle directory",
    lies_in_state(
        "state reports the bundle path relative",
        lambda s: s.__setitem__("bundle", os.path.basename(str(s.get("bundle")))),
    ),
)
def bundle_absolute(ctx: Context) -> None:
    container = ctx.created()
    bundle = container.state().get("bundle")
    expect(isinstance(bundle, str) and os.path.isabs(bundle), f"bundle not absolute: {bundle!r}")
    expect_equal(os.path.realpath(str(bundle)), str(container.bundle.path.resolve()), "bundle")


@check(
    "state.bundle.relative-given",
    STATE,
    MUST,
    "bundle is absolute even when create was given a relative bundle path",
    lies_in_state(
        "state reports the bundle path as given",
        lambda s: s.__setitem__("bundle", os.path.basename(str(s.get("bundle")))),
    ),
)
def bundle_relative_given(ctx: Context) -> None:
    container = ctx.container()
    container.create(bundle=container.bundle.path.name, cwd=container.bundle.path.parent)
    bundle = container.state().get("bundle")
    expect(isinstance(bundle, str) and os.path.isabs(bundle), f"bundle not absolute: {bundle!r}")
    expect_equal(os.path.realpath(str(bundle)), str(container.bundle.path.resolve()), "bundle")


@check(
    "state.annotations",
    STATE,
    MUST,
    "annotations in the state are those of config.json",
    lies_in_state("state drops the annotations", lambda s: s.pop("annotations", None) and None),
)
def annotations(ctx: Context) -> None:
    container = ctx.created(lambda c: c.__setitem__("annotations", dict(ANNOTATIONS)))
    expect_equal(container.state().get("annotations"), ANNOTATIONS, "state.annotations")


@check(
    "state.annotations.none",
    STATE,
    MAY,
    "without annotations in config.json, state has none (absent or an empty map)",
    lies_in_state(
        "state invents an annotation", lambda s: s.__setitem__("annotations", {"x.y": "z"})
    ),
)
def annotations_none(ctx: Context) -> None:
    found = ctx.created().state().get("annotations")
    expect(found in (None, {}), f"annotations without any configured: {found!r}")


@check(
    "state.schema",
    "runtime.md#runtimeState",
    MUST,
    "state has the required fields with the schema's types (ociVersion, id, status, bundle, pid)",
    lies_in_state("state reports the pid as a string", lambda s: s.__setitem__("pid", "1")),
)
def schema(ctx: Context) -> None:
    container = ctx.created(lambda c: c.__setitem__("annotations", {"a.b": "c"}))
    problems = state_problems(container.state())
    container.start()
    problems += state_problems(container.state())
    expect(not problems, "; ".join(problems))


@check(
    "state.stopped.fields",
    STATE,
    MUST,
    "a stopped container's state still has id, status and bundle",
    lies_in_state("stopped state lacks the bundle", _when("stopped", "bundle", None)),
)
def stopped_fields(ctx: Context) -> None:
    container = ctx.created(args=["true"])
    container.start()
    container.wait_exit()
    container.wait_status("stopped")
    problems = state_problems(container.state())
    expect(not problems, "; ".join(problems))


def state_problems(state: dict) -> list[str]:
    """Differences from the state schema: required fields, types, status values."""
    problems = []
    for key in ("ociVersion", "id", "status", "bundle"):
        if not isinstance(state.get(key), str):
            problems.append(f"{key} missing or not a string: {state.get(key)!r}")
    status = state.get("status")
    if status not in ("creating", "created", "running", "stopped"):
        problems.append(f"status {status!r} is not one the spec defines")
    pid = state.get("pid")
    if status in ("created", "running") and not (isinstance(pid, int) and pid > 0):
        problems.append(f"pid {pid!r} while {status} (required on Linux)")
    if pid is not None and not (isinstance(pid, int) and not isinstance(pid, bool) and pid >= 0):
        problems.append(f"pid {pid!r} is not a non-negative integer")
    annotations = state.get("annotations")
    if annotations is not None and not (
        isinstance(annotations, dict)
        and all(isinstance(k, str) and isinstance(v, str) for k, v in annotations.items())
    ):
        problems.append(f"annotations {annotations!r} is not a map of strings")
    return problems
