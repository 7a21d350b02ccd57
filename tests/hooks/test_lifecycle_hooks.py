"""Hooks through the CLI on real containers, checked against runtime.md and config.md:
when each kind runs, in which namespaces, with which state, cwd, args and env."""

from __future__ import annotations

import os
import time

from tests.hooks.hooklib import BUSYBOX, Recorder, ns_of
from tests.support import upstream

KINDS = ("prestart", "createRuntime", "createContainer", "startContainer", "poststart",
         "poststop")
PROGRAM = "touch /hooklog/program-ran; exec sleep 1000"


def _full_lifecycle(rt, bundle) -> tuple[Recorder, int, dict]:
    """Every hook kind recording, through create, start, kill and delete."""
    rec = Recorder(bundle)
    for kind in KINDS:
        rec.add(kind)
    bundle.config["annotations"] = {"org.example.hooks": "yes"}
    bundle.sh(PROGRAM)
    rt("create", "-b", bundle.path, bundle.id, check=True)
    pid = rt.state(bundle.id)["pid"]
    container_ns = ns_of(pid)
    assert rec.order() == ["prestart", "createRuntime", "createContainer"]
    rt("start", bundle.id, check=True)
    assert rec.order()[3:] == ["startContainer", "poststart"]
    rt("kill", bundle.id, "KILL", check=True)
    rt.wait_status(bundle.id, "stopped")
    assert "poststop" not in rec.order()
    rt("delete", bundle.id, check=True)
    return rec, pid, container_ns


def test_every_kind_runs_once_in_lifecycle_order(rt, bundle):
    rec, _, _ = _full_lifecycle(rt, bundle)
    assert rec.order() == list(KINDS)


def test_state_on_stdin_has_the_status_of_each_step(rt, bundle):
    rec, pid, _ = _full_lifecycle(rt, bundle)
    want = {"prestart": "creating", "createRuntime": "creating", "createContainer": "creating",
            "startContainer": "created", "poststart": "running", "poststop": "stopped"}
    for kind, status in want.items():
        st = rec.state(kind)
        assert st["status"] == status, kind
        assert st["id"] == bundle.id
        assert st["bundle"] == bundle.path
        assert st["annotations"] == {"org.example.hooks": "yes"}
    # The pid as the runtime sees it in the runtime namespace, as the container
    # sees it (1 in its own pid namespace) in the container namespace.
    for kind in ("prestart", "createRuntime", "poststart"):
        assert rec.state(kind)["pid"] == pid, kind
    for kind in ("createContainer", "startContainer"):
        assert rec.state(kind)["pid"] == 1, kind
    assert "pid" not in rec.state("poststop")
    for kind in want:   # last: skips (after the checks above) without ../shared
        upstream.validate(rec.state(kind), "state-schema.json")


def test_each_kind_runs_in_the_namespaces_runtime_md_names(rt, bundle):
    rec, _, container_ns = _full_lifecycle(rt, bundle)
    host = ns_of("self")
    for kind in ("prestart", "createRuntime", "poststart", "poststop"):
        assert rec.ns(kind) == host, kind
    for kind in ("createContainer", "startContainer"):
        assert rec.ns(kind) == container_ns, kind


def test_container_namespace_hooks_are_in_the_containers_cgroups(rt, bundle):
    rec = Recorder(bundle)
    rec.add("createRuntime")
    rec.add("createContainer")
    rec.add("startContainer")
    bundle.args("/bin/sleep", "100")
    rt("create", "-b", bundle.path, bundle.id, check=True)
    pid = rt.state(bundle.id)["pid"]
    with open(f"/proc/{pid}/cgroup") as f:
        init_cgroups = f.read()
    assert bundle.linux["cgroupsPath"] in init_cgroups
    assert rec.text("createContainer", "cgroup") == init_cgroups
    assert rec.text("createRuntime", "cgroup") != init_cgroups  # the runtime's own
    rt("start", bundle.id, check=True)
    # startContainer, seen from inside: the same cgroups as the container's pid 1.
    assert rec.text("startContainer", "cgroup") == rec.text("startContainer", "cgroup-of-1")


def test_create_hooks_run_after_the_mounts_and_before_pivot_root(rt, bundle):
    rec, _, _ = _full_lifecycle(rt, bundle)
    rootfs = os.path.realpath(bundle.config["root"]["path"])
    # The container's mounts are in place when prestart and createRuntime look...
    for kind in ("prestart", "createRuntime"):
        mounts = rec.text(kind, "mountinfo")
        assert f" {rootfs}/hooklog " in mounts, kind
        assert f" {rootfs}/proc " in mounts, kind
    # ...and createContainer still sees the host's tree (no pivot_root yet), its cwd
    # the rootfs, while startContainer runs in the container's root.
    assert rec.text("createContainer", "cwd").strip() == rootfs
    assert rec.text("startContainer", "cwd").strip() == "/"


def test_start_hooks_bracket_the_user_program(rt, bundle):
    rec, _, _ = _full_lifecycle(rt, bundle)
    assert rec.text("startContainer", "program-ran") == ""
    # poststart: the container process has executed the user program.
    assert rec.text("poststart", "cmdline").startswith("sleep 1000")
    assert rec.text("poststop", "program-ran") == "yes\n"


def test_runtime_namespace_hooks_run_in_the_bundle(rt, bundle):
    rec, _, _ = _full_lifecycle(rt, bundle)
    for kind in ("prestart", "createRuntime", "poststart", "poststop"):
        assert rec.text(kind, "cwd").strip() == bundle.path, kind


def test_hooks_of_one_kind_run_in_the_listed_order(rt, bundle):
    rec = Recorder(bundle)
    for label in ("c", "a", "b"):
        rec.add("createRuntime", label)
    rt("create", "-b", bundle.path, bundle.id, check=True)
    assert rec.order() == ["c", "a", "b"]


def test_args_are_the_whole_argv_and_env_exactly_the_given_one(rt, bundle):
    rec = Recorder(bundle)
    out = os.path.join(rec.dir, "argv")
    # /proc/$$/environ: what the shell was started with, before it adds PWD and such.
    script = f'echo "$0|$1|$2" > {out}; /bin/busybox cat /proc/$$/environ > {out}.env; true'
    rec.add_raw("createRuntime", {"path": BUSYBOX,
                                  "args": ["sh", "-c", script, "zero", "one two", "three"],
                                  "env": ["HOOK_A=a=b", "HOOK_B="]})
    env = dict(os.environ, RUNTIME_ONLY="leak")
    rt("create", "-b", bundle.path, bundle.id, check=True, env=env)
    with open(out) as f:
        assert f.read() == "zero|one two|three\n"
    with open(out + ".env", "rb") as f:
        assert f.read().split(b"\0")[:-1] == [b"HOOK_A=a=b", b"HOOK_B="]


def test_a_hook_without_env_gets_the_runtimes_environment(rt, bundle):
    """config.md leaves it open; runc passes its own environment on (Go's exec)."""
    rec = Recorder(bundle)
    rec.add("createRuntime")
    rt("create", "-b", bundle.path, bundle.id, check=True,
       env=dict(os.environ, RUNTIME_VAR="inherited"))
    assert "RUNTIME_VAR=inherited" in rec.env("createRuntime")


def test_a_hook_without_args_gets_its_path_as_argv0(rt, bundle, tmp_path):
    script = tmp_path / "argv0.sh"
    out = tmp_path / "argv0.out"
    script.write_text(f'#!/bin/busybox sh\necho "$0 $#" > {out}\n')
    script.chmod(0o755)
    Recorder(bundle).add_raw("createRuntime", {"path": str(script)})
    rt("create", "-b", bundle.path, bundle.id, check=True)
    assert out.read_text() == f"{script} 0\n"


def test_a_hook_that_never_reads_its_state_is_fine(rt, bundle):
    # A state far bigger than a pipe's buffer, and a hook that exits at once.
    bundle.config["annotations"] = {f"org.example.k{i}": "v" * 1000 for i in range(300)}
    rec = Recorder(bundle)
    rec.add_raw("createRuntime", {"path": BUSYBOX, "args": ["true"]})
    rec.add_raw("startContainer", {"path": BUSYBOX, "args": ["true"]})
    rec.add_raw("poststart", {"path": BUSYBOX, "args": ["true"]})
    rec.add("poststop")
    bundle.args("/bin/true")
    rt("run", "-b", bundle.path, bundle.id, check=True)
    assert rec.order() == ["poststop"]
    assert len(rec.state("poststop")["annotations"]) == 300


def test_a_hook_that_leaves_a_child_holding_its_output_does_not_block(rt, bundle):
    rec = Recorder(bundle)
    # The background sleep keeps the hook's stdout and stderr open after it exits.
    rec.add_raw("createRuntime", {"path": BUSYBOX,
                                  "args": ["sh", "-c", "sleep 5 & echo started"]})
    begin = time.monotonic()
    rt("create", "-b", bundle.path, bundle.id, check=True, timeout=20)
    assert time.monotonic() - begin < 4


def test_container_namespace_hooks_without_a_pid_namespace_get_the_host_pid(rt, bundle):
    bundle.linux["namespaces"] = [n for n in bundle.linux["namespaces"] if n["type"] != "pid"]
    rec = Recorder(bundle)
    rec.add("createContainer")
    rt("create", "-b", bundle.path, bundle.id, check=True)
    assert rec.state("createContainer")["pid"] == rt.state(bundle.id)["pid"]


def test_container_namespace_hooks_in_a_user_namespace(rt, bundle):
    bundle.linux["namespaces"].append({"type": "user"})
    bundle.linux["uidMappings"] = [{"containerID": 0, "hostID": 0, "size": 65536}]
    bundle.linux["gidMappings"] = [{"containerID": 0, "hostID": 0, "size": 65536}]
    rec = Recorder(bundle)
    rec.add("createContainer")
    rec.add("startContainer")
    bundle.args("/bin/sleep", "100")
    rt("create", "-b", bundle.path, bundle.id, check=True)
    pid = rt.state(bundle.id)["pid"]
    rt("start", bundle.id, check=True)
    user_ns = os.readlink(f"/proc/{pid}/ns/user")
    assert user_ns != os.readlink("/proc/self/ns/user")
    assert rec.order() == ["createContainer", "startContainer"]
    assert rec.ns("startContainer") == ns_of(pid)
