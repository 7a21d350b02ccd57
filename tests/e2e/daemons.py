"""containerd and dockerd started by the suite itself, on private roots,
sockets and pidfiles, with the runtime under test registered as `pyrunc`.
They are stopped by their pid, never by name."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess

from tests.e2e.cgroups import V2
from tests.e2e.env import attempt, remove_tree, run, wait_for

RUNTIME_NAME = "pyrunc"
CTR_NAMESPACE = "pyrunc-e2e"
DOCKER_NAMESPACE = "pyrunc-e2e-moby"
CRI_NAMESPACE = "k8s.io"  # fixed by containerd's CRI plugin
SHARED_RUN_DIR = "/run/containerd"


class Daemon:
    """A child process with a log file, stopped with SIGTERM then SIGKILL."""

    name = "daemon"

    def __init__(self, workdir: str) -> None:
        self.dir = workdir
        os.makedirs(workdir, exist_ok=True)
        self.log_path = os.path.join(workdir, f"{self.name}.log")
        self.proc: subprocess.Popen | None = None

    def _spawn(self, argv: list[str]) -> None:
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                     start_new_session=True)
        log.close()

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def log_tail(self, lines: int = 30) -> str:
        try:
            with open(self.log_path, errors="replace") as f:
                return "".join(f.readlines()[-lines:])
        except OSError:
            return ""

    def terminate(self, timeout: float = 30) -> None:
        if not self.alive():
            return
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


class Containerd(Daemon):
    name = "containerd"

    def __init__(self, workdir: str, runtime_binary: str, sandbox_image: str,
                 systemd_cgroup: bool = False) -> None:
        super().__init__(workdir)
        self.runtime_binary = runtime_binary
        self.systemd_cgroup = systemd_cgroup
        self.sandbox_image = sandbox_image
        self.socket = os.path.join(workdir, "containerd.sock")
        self.config_path = os.path.join(workdir, "config.toml")

    def config_toml(self) -> str:
        d = self.dir
        # The runc shim's SystemdCgroup: the runtime gets --systemd-cgroup and a
        # "slice:prefix:name" cgroupsPath from the CRI plugin (kubeadm's default).
        systemd = "true" if self.systemd_cgroup else "false"
        return f"""\
version = 2
root = "{d}/root"
state = "{d}/state"

[grpc]
  address = "{self.socket}"

[debug]
  address = ""

[metrics]
  address = ""

[plugins."io.containerd.internal.v1.opt"]
  path = "{d}/opt"

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "{self.sandbox_image}"
  disable_tcp_service = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  # The pause container asks for oom_score_adj -998; lowering it needs
  # CAP_SYS_RESOURCE, which root lacks on this machine.
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "{d}/cni"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = {systemd}
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.{RUNTIME_NAME}]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.{RUNTIME_NAME}.options]
        BinaryName = "{self.runtime_binary}"
        SystemdCgroup = {systemd}
"""

    def start(self) -> None:
        os.makedirs(os.path.join(self.dir, "cni"), exist_ok=True)
        with open(self.config_path, "w") as f:
            f.write(self.config_toml())
        self._spawn(["containerd", "--config", self.config_path])

        def up() -> bool:
            if not self.alive():
                raise AssertionError(f"containerd exited:\n{self.log_tail()}")
            return os.path.exists(self.socket) and run(self.ctr("version"),
                                                       timeout=10).returncode == 0
        wait_for(up, 30, "containerd to answer")

    def ctr(self, *args: str, namespace: str = CTR_NAMESPACE) -> list[str]:
        return ["ctr", "--address", self.socket, "--namespace", namespace, *args]

    def clean_namespace(self, namespace: str) -> None:
        """Kill and delete every task and container the suite left in `namespace`."""
        ls = attempt(self.ctr("containers", "list", "-q", namespace=namespace))
        for cid in ls.stdout.split() if ls else []:
            # --force kills a task that is still running, then deletes it.
            attempt(self.ctr("tasks", "delete", "--force", cid, namespace=namespace))
            attempt(self.ctr("containers", "delete", cid, namespace=namespace))

    def stop(self) -> None:
        if self.alive():
            for ns in (CTR_NAMESPACE, CRI_NAMESPACE, DOCKER_NAMESPACE):
                self.clean_namespace(ns)
        self.terminate()
        self.kill_stray_shims()

    def kill_stray_shims(self) -> None:
        """A shim whose create never returned (a runtime that never sent the
        console) outlives containerd; ours are the ones naming our socket."""
        for pid in os.listdir("/proc"):
            if not pid.isdigit():
                continue
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    argv = f.read().split(b"\0")
            except OSError:
                continue
            if (argv and argv[0].endswith(b"containerd-shim-runc-v2")
                    and self.socket.encode() in argv):
                try:
                    os.kill(int(pid), signal.SIGKILL)
                except ProcessLookupError:
                    pass


class Dockerd(Daemon):
    name = "dockerd"

    def __init__(self, workdir: str, containerd_socket: str, runtime_binary: str,
                 cgroup_parent: str, cgroup_driver: str = "cgroupfs") -> None:
        super().__init__(workdir)
        self.socket = os.path.join(workdir, "docker.sock")
        self.config_path = os.path.join(workdir, "daemon.json")
        self.client_env = {"DOCKER_HOST": f"unix://{self.socket}",
                           "DOCKER_CONFIG": os.path.join(workdir, "client-config")}
        self.config = {
            "runtimes": {RUNTIME_NAME: {"path": runtime_binary}},
            "cgroup-parent": cgroup_parent,
            "bridge": "none",
            "iptables": False,
            "ip-forward": False,
            "ip-masq": False,
            "storage-driver": "overlay2",
            "data-root": os.path.join(workdir, "data"),
            "exec-root": os.path.join(workdir, "exec"),
            "pidfile": os.path.join(workdir, "dockerd.pid"),
            # Debian's 20.10 writes its trust key to /etc/docker unless told otherwise.
            "deprecated-key-path": os.path.join(workdir, "key.json"),
            "hosts": [f"unix://{self.socket}"],
            "containerd": containerd_socket,
            "containerd-namespace": DOCKER_NAMESPACE,
            "containerd-plugins-namespace": DOCKER_NAMESPACE + "-plugins",
        }
        # systemd is dockerd's own default where PID 1 is systemd on cgroup v2:
        # the suite then leaves the choice to it (and checks `docker info`).
        if cgroup_driver == "cgroupfs" or not V2:
            self.config["exec-opts"] = [f"native.cgroupdriver={cgroup_driver}"]

    def start(self) -> None:
        with open(self.config_path, "w") as f:
            json.dump(self.config, f, indent=2)
        self._spawn(["dockerd", "--config-file", self.config_path])

        def up() -> bool:
            if not self.alive():
                raise AssertionError(f"dockerd exited:\n{self.log_tail()}")
            try:  # the API may hang while the daemon restores its containers
                return run(["/usr/bin/docker", "version"], env=self.client_env,
                           timeout=10).returncode == 0
            except subprocess.TimeoutExpired:
                return False
        # A restart restores the containers first (runtime calls for each): under
        # TCG with other guests running that took over 300 s.
        wait_for(up, 120, "dockerd to answer", step=0.3)

    def stop(self) -> None:
        if self.alive():
            ps = attempt(["/usr/bin/docker", "ps", "-aq"], env=self.client_env)
            if ps and ps.stdout.split():
                attempt(["/usr/bin/docker", "rm", "-f", *ps.stdout.split()],
                        env=self.client_env, timeout=60)
        self.terminate()

    def restart(self) -> None:
        self.terminate()
        self.start()


def remove_shared_run_dirs(existed_before: bool) -> None:
    """containerd's shims and ctr put sockets, fifos and runc roots in fixed
    places under /run/containerd: remove it if the suite made it, else only
    what is left empty there."""
    if not existed_before:
        shutil.rmtree(SHARED_RUN_DIR, ignore_errors=True)
        return
    for ns in (CTR_NAMESPACE, CRI_NAMESPACE, DOCKER_NAMESPACE):
        _rmdir(f"{SHARED_RUN_DIR}/runc/{ns}")
    for d in ("runc", "s", "fifo", ""):
        _rmdir(os.path.join(SHARED_RUN_DIR, d))


def _rmdir(path: str) -> None:
    try:
        os.rmdir(path)
    except OSError:
        pass


__all__ = ["Containerd", "Dockerd", "RUNTIME_NAME", "CTR_NAMESPACE", "remove_tree",
           "remove_shared_run_dirs"]
