"""Thin wrappers that run each client's command line against the suite's own
daemons and storage, always selecting the runtime under test."""

from __future__ import annotations

import os
import subprocess

from tests.e2e.cgroups import Layout
from tests.e2e.daemons import CTR_NAMESPACE, RUNTIME_NAME, Containerd, Dockerd
from tests.e2e.env import attempt, checked, run

DOCKER = "/usr/bin/docker"  # Debian's client, matching Debian's dockerd


class Client:
    env: dict[str, str] = {}

    def argv(self, *args: str) -> list[str]:
        raise NotImplementedError

    def __call__(self, *args: str, input: str | None = None,
                 timeout: float = 90) -> subprocess.CompletedProcess:
        return run(self.argv(*args), input=input, timeout=timeout, env=self.env)

    def attempt(self, *args: str, timeout: float = 30) -> subprocess.CompletedProcess | None:
        """Best-effort clean-up, bounded in time."""
        return attempt(self.argv(*args), timeout=timeout, env=self.env)

    def ok(self, *args: str, input: str | None = None,
           timeout: float = 90) -> subprocess.CompletedProcess:
        return checked(self(*args, input=input, timeout=timeout))


class Docker(Client):
    def __init__(self, daemon: Dockerd) -> None:
        self.daemon = daemon
        self.env = daemon.client_env

    def argv(self, *args: str) -> list[str]:
        return [DOCKER, *args]

    def run_argv(self, *args: str) -> list[str]:
        """`docker run` with the runtime under test."""
        return ["run", "--runtime", RUNTIME_NAME, *args]

    def inspect(self, name: str, fmt: str) -> str:
        return self.ok("inspect", "-f", fmt, name).stdout.strip()

    def pid(self, name: str) -> int:
        return int(self.inspect(name, "{{.State.Pid}}"))


class Ctr(Client):
    def __init__(self, daemon: Containerd, runtime_binary: str, layout: Layout) -> None:
        self.daemon = daemon
        self.runtime_binary = runtime_binary
        self.layout = layout

    def argv(self, *args: str) -> list[str]:
        return self.daemon.ctr(*args, namespace=CTR_NAMESPACE)

    def run_argv(self, cid: str, *args: str, flags: tuple[str, ...] = ()) -> list[str]:
        """`ctr run` with the runtime binary under test and a cgroup of the suite's
        (the shim's SystemdCgroup option with the systemd driver)."""
        systemd = ["--runc-systemd-cgroup"] if self.layout.systemd else []
        return ["run", "--runc-binary", self.runtime_binary, *systemd,
                "--cgroup", self.layout.ctr_cgroups_path(cid), *flags, *args]

    def task_pid(self, cid: str) -> int:
        for line in self.ok("tasks", "list").stdout.splitlines()[1:]:
            fields = line.split()
            if fields and fields[0] == cid:
                return int(fields[1])
        raise AssertionError(f"no task {cid}")

    def task_status(self, cid: str) -> str:
        for line in self.ok("tasks", "list").stdout.splitlines()[1:]:
            fields = line.split()
            if fields and fields[0] == cid:
                return fields[2]
        return "MISSING"


class Podman(Client):
    def __init__(self, workdir: str, runtime_binary: str, cgroup_parent: str,
                 cgroup_manager: str = "cgroupfs") -> None:
        self.dir = workdir
        self.cgroup_parent = cgroup_parent
        self.graphroot = os.path.join(workdir, "storage")
        self.runroot = os.path.join(workdir, "run")
        self.conf = os.path.join(workdir, "containers.conf")
        self.storage_conf = os.path.join(workdir, "storage.conf")
        os.makedirs(os.path.join(workdir, "tmp"), exist_ok=True)
        os.makedirs(os.path.join(workdir, "networks"), exist_ok=True)
        with open(self.conf, "w") as f:
            f.write(containers_conf(workdir, runtime_binary, cgroup_manager))
        with open(self.storage_conf, "w") as f:
            f.write(storage_conf(self.graphroot, self.runroot))
        self.env = {"CONTAINERS_CONF": self.conf, "CONTAINERS_STORAGE_CONF": self.storage_conf}
        self.runtime = RUNTIME_NAME  # or a runtime's path (the client bench)

    def argv(self, *args: str) -> list[str]:
        return ["podman", "--root", self.graphroot, "--runroot", self.runroot,
                "--runtime", self.runtime, *args]

    def run_argv(self, *args: str) -> list[str]:
        return ["run", "--cgroup-parent", self.cgroup_parent, *args]

    def inspect(self, name: str, fmt: str) -> str:
        return self.ok("inspect", "-f", fmt, name).stdout.strip()

    def pid(self, name: str) -> int:
        return int(self.inspect(name, "{{.State.Pid}}"))

    def cleanup(self) -> None:
        attempt(self.argv("rm", "-af", "-t", "0"), env=self.env, timeout=120)


def containers_conf(workdir: str, runtime_binary: str, cgroup_manager: str) -> str:
    """podman's engine settings: the runtime under test, the cgroup manager
    (systemd: conmon in a scope of its own, the runtime gets --systemd-cgroup
    and "slice:libpod:<id>"), no network by default (a bridge would change the host's
    forwarding and firewall), every scratch directory inside `workdir`, and
    rlimits within root's hard limits (podman asks for 1048576 open files,
    which needs CAP_SYS_RESOURCE, absent here)."""
    return f"""\
[containers]
netns = "none"
log_driver = "k8s-file"
default_ulimits = ["nofile=20000:20000", "nproc=4096:4096"]

[network]
network_config_dir = "{workdir}/networks"

[engine]
cgroup_manager = "{cgroup_manager}"
events_logger = "file"
events_logfile_path = "{workdir}/events.log"
tmp_dir = "{workdir}/tmp"
runtime = "{RUNTIME_NAME}"

[engine.runtimes]
{RUNTIME_NAME} = ["{runtime_binary}"]
"""


def storage_conf(graphroot: str, runroot: str) -> str:
    return f"""\
[storage]
driver = "overlay"
graphroot = "{graphroot}"
runroot = "{runroot}"
"""

