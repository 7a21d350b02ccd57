"""What a check gets to work with: bundles, containers driven through the runtime, cleanup.

A Session belongs to one runtime under test: a private directory (runtime state root, rootfs
template, one work directory per check) and a private cgroup parent. A Context belongs to one
check run; whatever containers it made are killed and deleted when the check ends.
"""

from __future__ import annotations

import ctypes
import itertools
import os
import re
import secrets
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from conformance import bundle as bundles
from conformance import cgroupfs, procfs
from conformance.console import ConsoleSocket
from conformance.registry import fail
from conformance.runtime import Result, Runtime, RuntimeCallError

Configure = Callable[[bundles.Config], None]

SLEEP_ARGS = ["sleep", "3600"]
_PR_SET_CHILD_SUBREAPER = 36


def become_subreaper() -> bool:
    """Adopt orphaned container processes so their exit status can be collected.

    A runtime's ``create`` exits and leaves the container process behind; as subreaper we become
    its parent and waitpid() tells how it ended. Without it we fall back to watching /proc.
    """
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


class Session:
    """All state for running the suite against one runtime binary."""

    def __init__(self, runtime_path: str, timeout: float = 30.0, keep: bool = False) -> None:
        self.token = secrets.token_hex(3)
        self.base = Path(tempfile.mkdtemp(prefix=f"pyrunc-conformance-{self.token}-"))
        # Containers with user namespaces run as unprivileged host ids: they must traverse this.
        os.chmod(self.base, 0o755)
        self.state_root = self.base / "state"
        self.state_root.mkdir(mode=0o700)
        self.template = bundles.build_rootfs_template(self.base / "rootfs-template")
        self.cgroup_parent = f"/pyrunc-conformance-{self.token}"
        self._root_subtree = cgroupfs.root_subtree()
        self.runtime = Runtime(runtime_path, self.state_root, timeout=timeout)
        self.keep = keep
        self._host_names = _host_names()
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def next_id(self) -> str:
        with self._lock:
            return f"cf-{self.token}-{next(self._ids)}"

    def context(self, check_id: str, runtime: Runtime | None = None) -> Context:
        name = re.sub(r"[^A-Za-z0-9_.-]", "_", check_id)
        workdir = self.base / "checks" / name
        if workdir.exists():
            shutil.rmtree(workdir)
        workdir.mkdir(parents=True, mode=0o755)
        os.chmod(workdir.parent, 0o755)
        return Context(self, workdir, runtime or self.runtime)

    def close(self) -> list[str]:
        """Remove everything the session made; return what could not be removed."""
        problems = _restore_host_names(self._host_names)
        reap_container_zombies(self.cgroup_parent)
        problems += cgroupfs.remove_tree(self.cgroup_parent)
        cgroupfs.restore_root_subtree(self._root_subtree)
        problems += unmount_below(self.base)
        if not self.keep and not problems:
            shutil.rmtree(self.base, ignore_errors=True)
        return problems


def reap_container_zombies(cgroup_parent: str) -> None:
    """Reap dead container processes we adopted as subreaper and no check waited for.

    A zombie keeps its cgroups alive (dying) until reaped. Only zombies from our own cgroups
    are taken: other children of this process belong to whoever started them.
    """
    me = os.getpid()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            if fields[0] != "Z" or int(fields[1]) != me:
                continue
            if cgroup_parent + "/" not in (entry / "cgroup").read_text():
                continue
            os.waitpid(int(entry.name), os.WNOHANG)
        except (OSError, IndexError, ValueError):
            continue


_DOMAINNAME = Path("/proc/sys/kernel/domainname")


def _host_names() -> tuple[str, str]:
    return socket.gethostname(), _DOMAINNAME.read_text().strip()


def _restore_host_names(saved: tuple[str, str]) -> list[str]:
    """A runtime that ignores the uts namespace renames the host: undo it and say so."""
    hostname, domainname = _host_names()
    problems = []
    if hostname != saved[0]:
        socket.sethostname(saved[0])
        problems.append(f"host hostname was changed to {hostname!r} (restored)")
    if domainname != saved[1]:
        _DOMAINNAME.write_text(saved[1])
        problems.append(f"host domainname was changed to {domainname!r} (restored)")
    return problems


def unmount_below(base: Path) -> list[str]:
    """Unmount host mounts under ``base`` (a check's host-side fixtures), deepest first."""
    prefix = str(base) + "/"
    points = sorted(
        {m.mountpoint for m in procfs.mountinfo("self") if m.mountpoint.startswith(prefix)},
        key=len,
        reverse=True,
    )
    left = []
    for point in points:
        proc = subprocess.run(["umount", "-l", point], capture_output=True, check=False)
        if proc.returncode != 0:
            left.append(point)
    return left


@dataclass
class Bundle:
    path: Path
    id: str
    out: Path  # host directory the container sees at /out
    config: bundles.Config

    @property
    def rootfs(self) -> Path:
        return self.path / "rootfs"

    def save(self) -> None:
        bundles.write_config(self.path, self.config)


@dataclass
class Finished:
    """A container that ran to completion."""

    stdout: str
    stderr: str
    exit_code: int | None  # None when the runtime did not leave the process to us
    bundle: Bundle
    pid: int

    def out(self, name: str) -> str:
        """A file the container wrote to /out/<name>, '' if it wrote none."""
        try:
            return (self.bundle.out / name).read_text()
        except FileNotFoundError:
            return ""


class Container:
    """One container of a check, driven step by step through the runtime."""

    def __init__(self, ctx: Context, bundle: Bundle) -> None:
        self.ctx = ctx
        self.bundle = bundle
        self.id = bundle.id
        self.stdout_path = bundle.path.parent / f"{bundle.path.name}.stdout"
        self.stderr_path = bundle.path.parent / f"{bundle.path.name}.stderr"
        self.console: ConsoleSocket | None = None
        self._pid: int | None = None
        self._init_exe: str | None = None
        self.exit_code: int | None = None

    @property
    def runtime(self) -> Runtime:
        return self.ctx.runtime

    def create(
        self,
        expect_ok: bool = True,
        bundle: Path | str | None = None,
        cwd: Path | None = None,
        prefix: Sequence[str] = (),
        extra_env: dict[str, str] | None = None,
    ) -> Result:
        """Create the container; ``bundle``/``cwd`` pass the bundle path as a caller would."""
        console_socket = None
        if self.bundle.config.get("process", {}).get("terminal"):
            self.console = ConsoleSocket(self.bundle.path.parent / f"{self.id}.console")
            console_socket = self.console.path
        result = self.runtime.create(
            self.id,
            bundle if bundle is not None else self.bundle.path,
            stdout=self.stdout_path,
            stderr=self.stderr_path,
            console_socket=console_socket,
            cwd=cwd,
            prefix=prefix,
            extra_env=extra_env,
        )
        if expect_ok and not result.ok:
            fail(result.summary())
        if result.ok:
            self._remember_pid()
        return result

    def _remember_pid(self) -> None:
        # Learn the pid while the container is created: once stopped, state may report none.
        try:
            pid = self.runtime.state_json(self.id).get("pid")
        except RuntimeCallError:
            return
        if isinstance(pid, int) and pid > 0:
            self._pid = pid
            try:
                self._init_exe = os.readlink(procfs.proc(pid) / "exe")
            except OSError:
                self._init_exe = None

    def start(self, expect_ok: bool = True) -> Result:
        result = self.runtime.start(self.id)
        if expect_ok and not result.ok:
            fail(result.summary())
        return result

    def kill(self, signal: str = "TERM", expect_ok: bool = True) -> Result:
        result = self.runtime.kill(self.id, signal)
        if expect_ok and not result.ok:
            fail(result.summary())
        return result

    def delete(self, force: bool = False, expect_ok: bool = True) -> Result:
        result = self.runtime.delete(self.id, force=force)
        if expect_ok and not result.ok:
            fail(result.summary())
        return result

    def state(self) -> dict:
        try:
            return self.runtime.state_json(self.id)
        except RuntimeCallError as exc:
            fail(f"no state for {self.id}: {exc}")

    def status(self) -> str:
        return str(self.state().get("status"))

    @property
    def pid(self) -> int:
        """The container process as the state reports it (remembered after the first look)."""
        if self._pid is None:
            pid = self.state().get("pid")
            if not isinstance(pid, int) or pid <= 0:
                fail(f"state reports no usable pid: {pid!r}")
            self._pid = pid
        return self._pid

    def wait_exec(self, timeout: float = 10.0) -> None:
        """Wait until the container process has exec'd the user program.

        ``start`` may return just before the exec; the process image changing from the one it
        had while created (the runtime's init) tells that the user program runs.
        """
        deadline = time.monotonic() + timeout
        pid = self.pid
        while time.monotonic() < deadline:
            try:
                exe = os.readlink(procfs.proc(pid) / "exe")
            except FileNotFoundError:
                fail(f"container process {pid} vanished before running the user program")
            except OSError:
                exe = None
            if exe is not None and self._init_exe is not None and exe != self._init_exe:
                return
            if self._init_exe is None and exe is not None:
                return
            time.sleep(0.01)
        fail(f"container process {pid} did not exec the user program within {timeout:.0f}s")

    def wait_exit(self, timeout: float = 20.0) -> int | None:
        """Wait for the container process to end; its exit code when we are its parent."""
        pid = self.pid
        deadline = time.monotonic() + timeout
        while True:
            try:
                done, status = os.waitpid(pid, os.WNOHANG)
                if done == pid:
                    self.exit_code = os.waitstatus_to_exitcode(status)
                    return self.exit_code
            except ChildProcessError:
                if not procfs.alive(pid):
                    return None
            if time.monotonic() > deadline:
                fail(f"container process {pid} still running after {timeout:.0f}s")
            time.sleep(0.01)

    def wait_status(self, wanted: str, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        status = None
        while time.monotonic() < deadline:
            status = self.status()
            if status == wanted:
                return
            time.sleep(0.02)
        fail(f"status stayed {status!r}, expected {wanted!r} within {timeout:.0f}s")

    def stdout(self) -> str:
        if self.console is not None:
            return self.console.output()
        return _read(self.stdout_path)

    def stderr(self) -> str:
        return _read(self.stderr_path)

    def cleanup(self) -> None:
        """Make sure the container is gone, whatever state the check left it in.

        Uses the session's runtime: the one a check ran under may be sabotaged to skip deletes.
        """
        rt = self.ctx.session.runtime
        if rt.state(self.id).ok:
            rt.kill(self.id, "KILL")
            if self._pid is not None:
                _reap(self._pid, 5.0)
            if not rt.delete(self.id).ok:
                rt.delete(self.id, force=True)
        elif self._pid is not None:
            _reap(self._pid, 0.0)
        if self.console is not None:
            self.console.close()


class Context:
    """Everything one check run needs; containers it makes are cleaned up by ``close``."""

    def __init__(self, session: Session, workdir: Path, runtime: Runtime) -> None:
        self.session = session
        self.workdir = workdir
        self.runtime = runtime
        self._containers: list[Container] = []
        self._cleanups: list[Callable[[], None]] = []
        self._names = itertools.count(1)

    # -- building bundles -------------------------------------------------------------------

    def bundle(
        self,
        configure: Configure | None = None,
        args: Sequence[str] | None = None,
        container_id: str | None = None,
    ) -> Bundle:
        """A fresh bundle with the default config, ``args`` as the process, then ``configure``."""
        cid = container_id or self.session.next_id()
        path = self.workdir / f"b{next(self._names)}"
        path.mkdir(mode=0o755)
        bundles.clone_rootfs(self.session.template, path / "rootfs")
        out = path / "out"
        out.mkdir()
        os.chmod(out, 0o777)
        config = bundles.default_config(cid, self.session.cgroup_parent, str(out))
        if args is not None:
            config["process"]["args"] = list(args)
        if configure is not None:
            configure(config)
        result = Bundle(path, cid, out, config)
        result.save()
        return result

    def container(
        self,
        configure: Configure | None = None,
        args: Sequence[str] | None = None,
        container_id: str | None = None,
    ) -> Container:
        """A container for a new bundle, not created yet; cleaned up when the check ends."""
        return self.adopt(self.bundle(configure, args, container_id))

    def adopt(self, bundle: Bundle, container_id: str | None = None) -> Container:
        if container_id is not None:
            bundle.id = container_id
        container = Container(self, bundle)
        self._containers.append(container)
        return container

    # -- common shapes of a check -----------------------------------------------------------

    def created(
        self, configure: Configure | None = None, args: Sequence[str] | None = None
    ) -> Container:
        container = self.container(configure, args or SLEEP_ARGS)
        container.create()
        return container

    def running(
        self, configure: Configure | None = None, args: Sequence[str] | None = None
    ) -> Container:
        """A started container whose process has exec'd its args (default: a long sleep)."""
        container = self.created(configure, args)
        container.start()
        container.wait_exec()
        return container

    def run(
        self,
        script: str | Sequence[str],
        configure: Configure | None = None,
        timeout: float = 20.0,
    ) -> Finished:
        """Create, start and wait for a container running ``script`` (sh -c) or an argv."""
        args = ["sh", "-c", script] if isinstance(script, str) else list(script)
        container = self.container(configure, args)
        container.create()
        pid = container.pid
        container.start()
        code = container.wait_exit(timeout)
        finished = Finished(container.stdout(), container.stderr(), code, container.bundle, pid)
        container.delete(expect_ok=False)
        return finished

    def create_fails(self, configure: Configure, what: str) -> str:
        """Expect ``create`` to fail for a bad config and leave no container; return its error."""
        container = self.container(configure)
        result = container.create(expect_ok=False)
        if result.ok:
            fail(f"create accepted {what}")
        state = self.runtime.state(container.id)
        if state.ok and '"stopped"' not in state.stdout:
            fail(f"create failed for {what} but left a container behind: {state.stdout[:120]}")
        return result.summary()

    # -- host-side fixtures ------------------------------------------------------------------

    def path(self, name: str) -> Path:
        """A fresh host path in this check's work directory."""
        return self.workdir / name

    def on_cleanup(self, action: Callable[[], None]) -> None:
        self._cleanups.append(action)

    def close(self) -> None:
        for container in reversed(self._containers):
            try:
                container.cleanup()
            except Exception:  # noqa: BLE001 - cleanup must go on for the others
                pass
        for action in reversed(self._cleanups):
            try:
                action()
            except Exception:  # noqa: BLE001
                pass
        unmount_below(self.workdir)


def _reap(pid: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            done, _ = os.waitpid(pid, os.WNOHANG)
            if done == pid:
                return
        except ChildProcessError:
            if not procfs.alive(pid):
                return
        if time.monotonic() > deadline:
            return
        time.sleep(0.01)


def _read(path: Path) -> str:
    try:
        return path.read_text(errors="replace")
    except FileNotFoundError:
        return ""
