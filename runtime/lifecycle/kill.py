"""kill: send a signal to the init, or with --all to every process of the container."""

from __future__ import annotations

import _signal as signal  # the signal module's enums cost ~3 ms
import os

from runtime.errors import PyruncError
from runtime.lifecycle.container import Container
from runtime.lifecycle.process_wait import open_pidfd, wait_exit
from runtime.state.store import Store


def kill(ctx, container_id: str, sig: int, all_processes: bool = False) -> None:
    c = Container.load(Store(ctx.root), container_id)
    status = c.status()
    if status == "stopped" and not all_processes:
        raise PyruncError("container not running")
    if all_processes:
        signal_all(c, sig)
        return
    fd = open_pidfd(c.pid, c.state.get("pid_start"))
    if fd < 0:
        raise PyruncError("container not running")
    try:
        signal.pidfd_send_signal(fd, sig)
    except ProcessLookupError:
        raise PyruncError("container not running") from None
    except OSError as e:     # a number the kernel does not know: runc's wording
        raise PyruncError(f"unable to signal init: {os.strerror(e.errno).lower()}") from None
    finally:
        os.close(fd)


def signal_all(c: Container, sig: int) -> None:
    """Signal every process in the container's cgroup (frozen ones are thawed after)."""
    cg = c.state.get("cgroup")
    if not cg:
        return
    from runtime.cgroups import from_state

    try:
        mgr = from_state(cg)
    except Exception as e:  # noqa: BLE001 - a damaged record: one line, not a crash
        raise PyruncError(f"cgroup state of container {c.id} is damaged: {e}") from None
    pids = mgr.pids()
    if not pids and cg.get("rootless") and c.pid:
        pids = pid_namespace_members(c.pid)
    for pid in pids:
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            pass
        except OSError as e:    # a signal the kernel does not know: runc warns, goes on
            from runtime.log import log

            log.warning(os.strerror(e.errno).lower())
    if sig == signal.SIGKILL:
        # Thaw unconditionally: a freeze still in progress (FREEZING) is not
        # "frozen" yet, and a frozen process never gets to die.
        try:
            mgr.thaw()
        except Exception:  # noqa: BLE001 - best effort, like runc
            pass


def pid_namespace_members(init: int) -> list[int]:
    """Rootless on cgroup v1 a container has no cgroup to list its processes: those in
    the init's pid namespace are its, if that namespace is not ours (runc 1.1 fails
    here with "lstat : no such file or directory")."""
    try:
        ns = os.readlink(f"/proc/{init}/ns/pid")
        if ns == os.readlink("/proc/self/ns/pid"):
            return []
    except OSError:
        return []
    out = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                if os.readlink(f"/proc/{name}/ns/pid") == ns:
                    out.append(int(name))
            except OSError:
                continue  # gone, or not ours to look at
    return out


def kill_and_wait(c: Container, timeout: float) -> bool:
    """SIGKILL the init and every other process of the container (they survive the
    init without a pid namespace), thawing a frozen cgroup so that the kills land;
    wait for the init.  False if it is still alive after `timeout` seconds."""
    fd = open_pidfd(c.pid, c.state.get("pid_start")) if c.pid else -1
    try:
        if fd >= 0:
            try:
                signal.pidfd_send_signal(fd, signal.SIGKILL)
            except ProcessLookupError:
                pass
        signal_all(c, signal.SIGKILL)
        return fd < 0 or _wait_dead(c, fd, timeout)
    finally:
        if fd >= 0:
            os.close(fd)


def _wait_dead(c: Container, pidfd: int, timeout: float) -> bool:
    """A `pause` racing us can freeze the init again after our thaw, and a frozen
    process never dies: keep thawing and killing until it is gone."""
    import time

    deadline = time.monotonic() + timeout
    while not wait_exit(pidfd, 0.1):
        if time.monotonic() > deadline:
            return False
        signal_all(c, signal.SIGKILL)
    return True
