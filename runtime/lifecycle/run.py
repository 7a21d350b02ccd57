"""run: create + start; in the foreground, forward signals, wait, delete, and exit
with the container's status (128+N when killed by signal N, as runc).

With process.terminal and no -d, the pty's master comes back to us over a
private socket and is relayed to the terminal we run in (raw mode, window
size kept in step), as runc does.

In the foreground, unless --no-subreaper, pyrunc is a child subreaper (as
runc's run): a container process orphaned outside a pid namespace of its own
is re-parented to us, not to the host's init, and reaped while we wait.
"""

from __future__ import annotations

import _signal as signal  # the signal module's enums cost ~3 ms
import os

from runtime.errors import PyruncError
from runtime.log import trace

# Signals a foreground `run` or `exec` passes on to the container process instead
# of acting on; SIGWINCH resizes the pty instead (runc never forwards it).
FORWARDED = tuple(s for s in range(1, 32)
                  if s not in (signal.SIGKILL, signal.SIGSTOP, signal.SIGCHLD, signal.SIGWINCH))


class Foreground:
    """Forward signals to the container process; those that arrive before it
    exists are kept and sent once it does."""

    def __init__(self) -> None:
        self.pid = 0
        self.pending: list[int] = []
        self.previous: dict = {}

    def __enter__(self) -> Foreground:
        self.previous = {s: signal.signal(s, self._forward) for s in FORWARDED}
        return self

    def __exit__(self, *exc: object) -> None:
        for s, h in self.previous.items():
            signal.signal(s, h)

    def _forward(self, signum: int, _frame: object) -> None:
        if not self.pid:
            self.pending.append(signum)
            return
        try:
            os.kill(self.pid, signum)
        except ProcessLookupError:
            pass

    def attach(self, pid: int) -> None:
        self.pid = pid
        for s in self.pending:
            self._forward(s, None)
        self.pending.clear()


def wait_status(pid: int, reap_others: bool = False) -> int:
    """Wait for our child; its exit status, 128+N if signal N killed it.  With
    `reap_others` (a subreaper) other children that exit meanwhile are reaped too."""
    try:
        if reap_others:
            while True:
                done, status = os.wait()
                if done == pid:
                    break
        else:
            _, status = os.waitpid(pid, 0)
    except ChildProcessError:
        return 0  # reaped elsewhere; nothing to report
    code = os.waitstatus_to_exitcode(status)
    return 128 - code if code < 0 else code


def become_subreaper() -> None:
    """runc's run: a failure is a warning, the container runs all the same."""
    from runtime.log import log
    from runtime.native import lib

    r = lib.pyrunc_set_child_subreaper(1)
    if r < 0:
        log.warning(f"set child subreaper: {os.strerror(-r)}")


def reap_adopted() -> None:
    """Children re-parented to us and killed by the delete: no zombies left."""
    while True:
        try:
            done, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if done == 0:
            return


def run_container(ctx, container_id: str, opts: dict) -> int:
    from runtime.cli.create import create_with_prefix

    if opts["detach"]:
        c = create_with_prefix("run", ctx, opts, container_id, meanwhile=_import_start_and_delete)
        from runtime.lifecycle.delete import delete
        from runtime.lifecycle.start import start

        try:
            start(ctx, container_id, created=c)
        except PyruncError:
            delete(ctx, container_id, force=True, created=c)
            raise
        return 0

    wants_tty = _wants_terminal(opts["bundle"])
    if opts["console_socket"]:
        raise PyruncError("pyrunc run failed: cannot use console socket if runc will not "
                          "detach or allocate tty")
    # As runc, a foreground run becomes a subreaper; only once create is done:
    # until `start` the init, our child, runs nothing that could leave orphans.
    subreaper = not opts.get("no_subreaper")
    if wants_tty:
        return _run_with_terminal(ctx, container_id, opts, subreaper)
    with Foreground() as fg:
        # Our stdio is the caller's own: it is passed, never chowned.
        c = create_with_prefix("run", ctx, opts, container_id, chown_stdio=False,
                               meanwhile=_import_start_and_delete)
        if subreaper:
            become_subreaper()
        from runtime.lifecycle.delete import delete
        from runtime.lifecycle.start import start

        try:
            start(ctx, container_id, created=c)
        except PyruncError:
            delete(ctx, container_id, force=True, created=c)
            raise
        fg.attach(c.pid)
        status = wait_status(c.pid, reap_others=subreaper)
    if trace:
        trace(f"run: the process exited, status {status}")
    if not opts.get("keep"):
        delete(ctx, container_id, force=True, created=c)
        if trace:
            trace(f"run: deleted {container_id}")
    if subreaper:
        reap_adopted()
    return status


def _import_start_and_delete() -> None:
    """While the init sets up its rootfs: the modules `run` needs next (~1 ms)."""
    import runtime.lifecycle.delete
    import runtime.lifecycle.start  # noqa: F401


def _run_with_terminal(ctx, container_id: str, opts: dict, subreaper: bool) -> int:
    from runtime.cli.create import create_with_prefix
    from runtime.lifecycle.delete import delete
    from runtime.lifecycle.start import start
    from runtime.process import terminal

    try:
        host = terminal.HostConsole()  # before anything exists, as runc
    except PyruncError as e:
        raise PyruncError(f"pyrunc run failed: {e}") from None
    ours, theirs = terminal.socketpair()
    master = -1
    try:
        with Foreground() as fg:
            try:
                c = create_with_prefix("run", ctx, opts, container_id, console_fd=theirs)
                pid = c.pid
                if subreaper:
                    become_subreaper()
            finally:
                os.close(theirs)
            try:
                master = terminal.receive_master(ours)
                host.set_raw()
                start(ctx, container_id, created=c)
            except PyruncError:
                delete(ctx, container_id, force=True, created=c)
                raise
            fg.attach(pid)
            pidfd = os.pidfd_open(pid)
            try:
                terminal.relay(master, host, pidfd)
            finally:
                os.close(pidfd)
            status = wait_status(pid, reap_others=subreaper)
    finally:
        host.restore()
        os.close(ours)
        if master >= 0:
            os.close(master)
    if not opts.get("keep"):
        delete(ctx, container_id, force=True, created=c)
    if subreaper:
        reap_adopted()
    return status


def _wants_terminal(bundle: str) -> bool:
    """process.terminal of the bundle's config (create reports a broken config)."""
    from spec.jsonio import loads

    try:
        with open(os.path.join(bundle or ".", "config.json"), "rb") as f:
            return bool((loads(f.read()).get("process") or {}).get("terminal"))
    except (OSError, ValueError, AttributeError):
        return False
