"""delete: remove a stopped container (with --force, kill it first): poststop hooks,
cgroups and the state directory.  Works on whatever a crashed create left."""

from __future__ import annotations

import _signal as signal  # the signal module's enums cost ~3 ms
import os

from runtime.errors import NotExistError, PyruncError
from runtime.lifecycle.container import Container
from runtime.log import log
from runtime.state.store import Store, remove_dir
from spec.config import has_hooks


def delete(ctx, container_id: str, force: bool = False,
           created: Container | None = None) -> None:
    """`created`: the container as `run` created it, instead of loading it (a
    concurrent delete of it is seen under the lock)."""
    store = Store(ctx.root)
    try:
        c = created or Container.load(store, container_id)
    except NotExistError:
        if force and os.path.isdir(store.path(container_id)):
            # A create that crashed before writing any state: only the directory.
            remove_dir(store.path(container_id))
            return
        if force:
            return
        raise
    if force and c.status() != "stopped":
        # Kill before taking the lock: the waiter of a container-namespace hook, forked
        # by a `start` that was killed, still holds it and ends only with the container.
        _kill_and_wait(c)
    try:
        with c.lock():
            status = c.status()
            if status in ("running", "paused", "creating") and not force:
                raise PyruncError(
                    f"cannot delete container {container_id} that is not stopped: {status}")
            if status != "stopped" or (c.pid and (c.state.get("creating")
                                                  or _shares_pid_namespace(c))):
                _kill_and_wait(c)
            if c.state.get("creating") and not c.state.get("cgroup"):
                _remove_unrecorded_cgroups(ctx, c)
            destroy(c)
    except NotExistError:
        if not force:
            raise  # with --force, a concurrent delete did the job


def _remove_unrecorded_cgroups(ctx, c: Container) -> None:
    """A create killed between making its cgroups and recording them in state.json:
    find them from the saved config. Empty ones only (the path may be shared)."""
    try:
        from runtime.cgroups import for_container

        linux = c.config().get("linux") or {}
        systemd = ctx.systemd_cgroup or bool(c.state.get("systemd_cgroup"))
        mgr = for_container(c.id, linux.get("cgroupsPath"), systemd=systemd,
                            rootless=ctx.rootless_cgroups)
        if not mgr.pids():  # some hierarchies only, maybe: destroy skips missing ones
            if systemd:
                mgr.started = True  # its unit, if systemd still has it, is this one's
            mgr.destroy()
    except Exception as e:  # noqa: BLE001 - best effort; the state dir goes anyway
        log.warning(f"remove cgroups of the interrupted create of {c.id}: {e}")


def _shares_pid_namespace(c: Container) -> bool:
    """Whether processes can outlive the stopped init, as runc's destroy asks: not in a
    pid namespace of its own, which the kernel empties before the init is gone."""
    try:
        namespaces = (c.config().get("linux") or {}).get("namespaces") or []
    except (PyruncError, AttributeError):
        return True  # a damaged config: kill whatever is in the cgroups
    return not any(isinstance(ns, dict) and ns.get("type") == "pid" and not ns.get("path")
                   for ns in namespaces)


def _kill_and_wait(c: Container) -> None:
    creator = (c.state.get("creator") or {}).get("pid", 0)
    if creator and c.state.get("creating") and c.status() == "creating":
        # A create in progress: stop its runtime too, it would recreate things.
        try:
            os.kill(creator, signal.SIGKILL)
        except OSError:
            pass
    from runtime.lifecycle.kill import kill_and_wait  # not for a stopped container

    if not kill_and_wait(c, 10):
        raise PyruncError(f"container init {c.pid} did not exit after SIGKILL")


def _holds_others(mgr) -> bool:
    try:
        return bool(mgr.pids())
    except Exception:  # noqa: BLE001 - unreadable: not known to be someone else's
        return False


def destroy(c: Container) -> None:
    try:
        config = c.config()
    except PyruncError:
        config = {}
    cg = c.state.get("cgroup")
    if cg:
        from runtime.cgroups import from_state

        mgr = None
        try:
            mgr = from_state(cg)
            mgr.destroy()
        except Exception as e:  # noqa: BLE001
            if mgr is None or not _holds_others(mgr):
                raise PyruncError(f"remove cgroups of {c.id}: {e}") from None
            # Processes that were there before the container (runc warned at create)
            # keep its cgroup: runc logs that and removes the container all the same.
            log.error(f"remove cgroups of {c.id}: {e}")
    if has_hooks(config, "poststop") and (c.pid or not c.state.get("creating")):
        from runtime.lifecycle import hooks

        bundle = c.state.get("bundle", "")
        st = hooks.state(c.id, "stopped", 0, bundle, c.state.get("annotations"))
        hooks.run("poststop", config, st, cwd=bundle, warn_only=True)
    remove_dir(c.dir)
    if os.path.exists(c.dir):
        log.warning(f"could not remove {c.dir}")
