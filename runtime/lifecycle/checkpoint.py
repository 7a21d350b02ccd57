"""checkpoint: dump a running container with criu (runc's Container.Checkpoint).

criu freezes the container's processes (through its freezer cgroup), writes
their state to the image directory and, unless --leave-running or --pre-dump,
kills them; the container is then destroyed as runc does (poststop hooks,
cgroups, state), so that `restore` can bring it back under the same id.  A
failed dump leaves the container as it was: criu thaws what it froze.
"""

from __future__ import annotations

import os

from runtime.criu import CriuError
from runtime.criu.options import DESCRIPTORS, CriuOptions, open_dir
from runtime.errors import PyruncError
from runtime.lifecycle.container import Container
from runtime.log import log
from runtime.state.store import Store

CHECKPOINT_MARK = "checkpoint"  # in the state dir between criu's post-dump and the end


def checkpoint(ctx, container_id: str, flags: dict) -> None:
    """`flags`: the command's options, checked in runc's order (the container
    first, then the flags)."""
    store = Store(ctx.root)
    c = Container.load(store, container_id)
    status = c.status()
    if status in ("created", "stopped", "creating"):
        raise PyruncError(f"Container cannot be checkpointed in {status} state")
    opts = CriuOptions(flags)
    opts.prepare_dirs()
    if os.geteuid() != 0:
        log.warning("pyrunc checkpoint is untested with rootless containers")
    with c.lock():
        c = Container.load(store, container_id)
        _dump(ctx, c, opts)
    if not opts.leave_running and not opts.pre_dump:
        _destroy_dumped(c)


def _dump(ctx, c: Container, opts: CriuOptions) -> None:
    from runtime.criu.messages import load
    from runtime.criu.swrk import Criu

    rpc = load()
    log_file = "pre-dump.log" if opts.pre_dump else "dump.log"
    criu = Criu(ctx.criu, opts.log_path(log_file))
    criu.require(30000, "checkpoint")  # the VERSION request exists since criu 3.0
    config = c.config()
    fds: list[int] = []
    try:
        images = open_dir(opts.image_path, fds)
        work = open_dir(opts.work_path, fds) if opts.work_path else -1
        req = rpc.criu_req()
        req.type = rpc.PRE_DUMP if opts.pre_dump else rpc.DUMP
        o = req.opts
        opts.fill_common(o, rpc, images_fd=images, work_fd=work, log_file=log_file,
                         config=config)
        o.root = c.state.get("rootfs", "")
        o.pid = c.pid
        o.leave_running = opts.leave_running
        _external_namespaces(o, config, criu)
        freezer = _freezer_cgroup(c.state.get("cgroup") or {})
        if freezer:
            o.freeze_cgroup = freezer
        if opts.page_server is not None:
            o.ps.address, o.ps.port = opts.page_server
        if opts.parent_path:
            o.parent_img = opts.parent_path
            o.track_mem = True
        if opts.pre_dump:
            _require_features(criu, "pre-dump", mem_track=True)
        if opts.lazy_pages:
            _require_features(criu, "lazy-pages", lazy_pages=True)
            if opts.status_fd >= 0:
                _check_status_fd(opts.status_fd)
        if not opts.pre_dump:
            from runtime.criu.mounts import dump_external

            for key, val in dump_external(config, c.state.get("cgroup") or {}, c.pid):
                m = o.ext_mnt.add()
                m.key, m.val = key, val
            _write_descriptors(opts.image_path, c.pid)

        def notify(script: str, _pid: int, _fds: list[int]) -> None:
            if script == "post-dump":
                with open(os.path.join(c.dir, CHECKPOINT_MARK), "w"):
                    pass
            elif script == "status-ready" and opts.status_fd >= 0:
                _signal_status_fd(opts)

        try:
            criu.call(req, notify=notify)
        finally:
            try:
                os.unlink(os.path.join(c.dir, CHECKPOINT_MARK))
            except OSError:
                pass
    finally:
        for fd in fds:
            os.close(fd)


def _external_namespaces(o, config: dict, criu) -> None:
    """A network or pid namespace joined by path is not the container's to dump:
    criu records it as external (key extRoot<Kind>NS) and expects it at restore."""
    for ns in (config.get("linux") or {}).get("namespaces") or []:
        kind, path = ns.get("type"), ns.get("path")
        if kind not in ("network", "pid") or not path:
            continue
        name = "net" if kind == "network" else "pid"
        criu.require(31100 if kind == "network" else 31500,
                     f"an external {name} namespace")
        try:
            ino = os.stat(path).st_ino
        except OSError as e:
            raise PyruncError(f"stat {path}: {(e.strerror or '').lower()}") from None
        o.external.append(f"{name}[{ino}]:{ns_key(name)}")


def ns_key(name: str) -> str:
    return f"extRoot{name.capitalize()}NS"


def _freezer_cgroup(cg: dict) -> str:
    """criu freezes the tree through this cgroup rather than with ptrace."""
    if cg.get("mode") == "unified":
        return cg.get("path") or ""
    return (cg.get("paths") or {}).get("freezer", "")


def _require_features(criu, flag: str, **features: bool) -> None:
    missing = criu.missing_features(**features)
    if missing:
        names = {"mem_track": "MemTrack", "lazy_pages": "LazyPages"}
        raise CriuError(f"--{flag}: criu is missing features: "
                        f"[{' '.join(names.get(m, m) for m in missing)}] on this host")


def _check_status_fd(fd: int) -> None:
    import fcntl

    try:
        flags = fcntl.fcntl(fd, fcntl.F_GETFL)
    except OSError as e:
        raise PyruncError(f"invalid --status-fd argument {fd}: {e.strerror.lower()}") from None
    if flags & os.O_ACCMODE == os.O_RDONLY:
        raise PyruncError(f"invalid --status-fd argument {fd}: not writable")


def _signal_status_fd(opts: CriuOptions) -> None:
    """criu >= 3.15 says "status-ready" once its lazy-pages server listens: the
    caller waiting on --status-fd gets a NUL byte (runc's protocol)."""
    try:
        os.write(opts.status_fd, b"\0")
    except OSError as e:
        log.warning(f"can't write \\0 to status fd: {e.strerror}")
    try:
        os.close(opts.status_fd)
    except OSError:
        pass
    opts.status_fd = -1


def _write_descriptors(image_path: str, pid: int) -> None:
    """The init's stdio as criu will see it (runc's descriptors.json): a restore
    hands its own stdio to the pipes named here (inherit_fd)."""
    from spec.jsonio import dumps

    fds = []
    for n in range(3):
        try:
            fds.append(os.readlink(f"/proc/{pid}/fd/{n}"))
        except OSError:
            fds.append("/dev/null")
    path = os.path.join(image_path, DESCRIPTORS)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
        try:
            os.write(fd, dumps(fds).encode())
        finally:
            os.close(fd)
    except OSError as e:
        raise PyruncError(f"write {path}: {(e.strerror or '').lower()}") from None


def _destroy_dumped(c: Container) -> None:
    """criu killed the processes: remove what is left, as runc's Destroy (a
    failure is a warning: the checkpoint itself is done)."""
    from runtime.lifecycle.delete import destroy
    from runtime.lifecycle.kill import kill_and_wait

    try:
        if c.status() != "stopped":
            kill_and_wait(c, 10)
        with c.lock():
            destroy(c)
    except PyruncError as e:
        log.warning(str(e))
