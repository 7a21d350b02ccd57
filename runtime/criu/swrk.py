"""The client side of `criu swrk`: one criu process per request, as runc does.

criu gets one end of a SOCK_SEQPACKET socketpair as `swrk FD`, our stdio (on a
restore, the container's new stdio: criu hands it to the restored tasks) and the
fds an inherit_fd option names.  It reads one criu_req, may send NOTIFY
messages (answered once handled), and ends with the response to the request.
criu opens images_dir_fd and work_dir_fd through /proc/<our pid>/fd: those stay
ours, and are not passed.
"""

from __future__ import annotations

import os
import socket

from runtime.criu import CriuError
from runtime.criu.messages import load

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

_BUF = 10 * 4096  # as runc: a response larger than this is an error


def log_excerpt(path: str) -> str:
    """The first line of criu's log that reports an error (criu writes "Error
    (file:line)"), its time stamp dropped; a helper command's exit status (criu
    probes iptables and the like) only when nothing else is there."""
    found = []
    try:
        with open(path, errors="replace") as f:
            found = [line.strip() for line in f if "Error" in line]
    except OSError:
        pass
    for line in found + [""]:
        if "exited, status=" not in line or line is found[-1]:
            return line.split(") ", 1)[1] if line.startswith("(") and ") " in line else line
    return ""


class Criu:
    """How to reach criu (`--criu PATH`) and where a request's log goes."""

    def __init__(self, binary: str, log_path: str = "") -> None:
        self.binary = binary or "criu"
        self.log_path = log_path   # dump.log/restore.log in the work or image directory
        self._version = 0

    # -- the requests runc makes ------------------------------------------------
    def version(self) -> int:
        """criu's version as runc compares it: 3.17.1 -> 31701."""
        if not self._version:
            rpc = load()
            req = rpc.criu_req()
            req.type = rpc.VERSION
            try:
                resp = self._unlogged(req)
            except CriuError as e:
                raise CriuError(f"CRIU version check failed: {e}") from None
            v = resp.version
            self._version = v.major_number * 10000 + v.minor_number * 100 + v.sublevel
        return self._version

    def require(self, minimum: int, what: str = "") -> None:
        v = self.version()
        if v < minimum:
            need = f"{minimum // 10000}.{minimum // 100 % 100}"
            raise CriuError(f"{what or 'this'} requires at least CRIU {need} (criu is "
                            f"{v // 10000}.{v // 100 % 100}.{v % 100})")

    def missing_features(self, **wanted: bool) -> list[str]:
        """Which of criu_features (mem_track, lazy_pages) this criu and kernel lack."""
        rpc = load()
        req = rpc.criu_req()
        req.type = rpc.FEATURE_CHECK
        for name, value in wanted.items():
            setattr(req.features, name, value)
        try:
            resp = self._unlogged(req)
        except CriuError as e:
            raise CriuError(f"CRIU feature check failed: {e}") from None
        return [n for n, v in wanted.items()
                if v and resp.features.HasField(n) and not getattr(resp.features, n)]

    def _unlogged(self, req):
        """A request criu writes no log for (its stderr is /dev/null)."""
        log_path, self.log_path = self.log_path, ""
        try:
            return self.call(req)
        finally:
            self.log_path = log_path

    # -- one request ------------------------------------------------------------
    def call(self, req, *, notify: Callable[[str, int, list[int]], None] | None = None,
             inherit: Sequence[int] = (), spawned: Callable[[int], None] | None = None,
             stdio: bool = False):
        """Run `criu swrk`, send `req`, answer its notifications with `notify(script,
        pid, fds)` (fds received with the message: ours to close) and return the
        final criu_resp.  `spawned(pid)` runs before the request is sent (a restore
        puts criu in the container's cgroups then).  criu's stdio is /dev/null
        unless `stdio` (a restore: ours becomes the container's)."""
        rpc = load()
        if self.log_path:
            try:
                os.unlink(self.log_path)  # an excerpt must not come from an older run
            except OSError:
                pass
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        pid = 0
        try:
            pid = self._spawn(theirs.fileno(), inherit, stdio)
            theirs.close()
            if spawned is not None:
                spawned(pid)
            resp = self._converse(rpc, ours, req, notify)
            ours.shutdown(socket.SHUT_WR)
        except BaseException:
            ours.close()
            if pid:
                _reap(pid)
            raise
        finally:
            theirs.close()
        ours.close()
        status = _reap(pid)
        # After a PRE_DUMP criu waits for the next request of an iteration that
        # never comes (runc's one pre-dump per run): its exit status means nothing.
        if status != 0 and req.type != rpc.PRE_DUMP:
            raise CriuError(self._failure(f"criu failed: {_describe_status(status)}"))
        return resp

    def _spawn(self, fd: int, inherit: Sequence[int], stdio: bool) -> int:
        keep = [fd, *inherit]
        for k in keep:
            os.set_inheritable(k, True)
        argv = [self.binary, "swrk", str(fd)]
        actions = [] if stdio else [(os.POSIX_SPAWN_OPEN, n, "/dev/null", os.O_RDWR, 0)
                                    for n in range(3)]
        try:
            spawn = os.posix_spawn if "/" in self.binary else os.posix_spawnp
            return spawn(self.binary, argv, os.environ, file_actions=actions)
        except OSError as e:
            raise CriuError(f"cannot run criu ({self.binary}): {(e.strerror or str(e)).lower()}"
                            + (f"; no log written to {self.log_path}" if self.log_path else "")) \
                from None
        finally:
            for k in keep:
                try:
                    os.set_inheritable(k, False)
                except OSError:
                    pass

    def _converse(self, rpc, sock: socket.socket, req, notify) -> object:
        try:
            sock.sendall(req.SerializeToString())
        except OSError as e:
            raise CriuError(self._failure(f"send the request to criu: {e.strerror}")) from None
        while True:
            try:
                data, anc, flags, _ = sock.recvmsg(_BUF, socket.CMSG_SPACE(16 * 4))
            except OSError as e:
                raise CriuError(self._failure(f"read criu's answer: {e.strerror}")) from None
            fds = _received_fds(anc)
            if not data:
                _close_all(fds)
                raise CriuError(self._failure("criu exited without answering (unexpected EOF)"))
            if flags & socket.MSG_TRUNC:
                _close_all(fds)
                raise CriuError(self._failure("criu's answer is too large"))
            resp = rpc.criu_resp()
            resp.ParseFromString(data)
            kind = rpc.criu_req_type.Name(resp.type)
            if not resp.success:
                _close_all(fds)
                detail = f"criu failed: type {kind} errno {resp.cr_errno}"
                if resp.cr_errmsg:
                    detail += f" ({resp.cr_errmsg.strip()})"
                raise CriuError(self._failure(detail, resp.cr_errmsg))
            if resp.type != rpc.NOTIFY:
                _close_all(fds)
                if resp.type != req.type:
                    raise CriuError(self._failure(f"unexpected criu response {kind}"))
                return resp
            try:
                if notify is not None:
                    notify(resp.notify.script, resp.notify.pid, fds)
            finally:
                _close_all(fds)
            ack = rpc.criu_req()
            ack.type = rpc.NOTIFY
            ack.notify_success = True
            try:
                sock.sendall(ack.SerializeToString())
            except OSError as e:
                raise CriuError(self._failure(f"answer criu: {e.strerror}")) from None

    def _failure(self, detail: str, said: str = "") -> str:
        """One line: what failed, criu's first error (unless its answer said it)
        and where its log is."""
        if not self.log_path:
            return detail
        excerpt = log_excerpt(self.log_path)
        if excerpt and excerpt.split("): ", 1)[-1].strip() in said:
            excerpt = ""
        return detail + (f": {excerpt}" if excerpt else "") + f" (criu log: {self.log_path})"


def _received_fds(anc: list) -> list[int]:
    import array

    fds: list[int] = []
    for level, kind, data in anc:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            a = array.array("i")
            a.frombytes(data[:len(data) - len(data) % a.itemsize])
            fds.extend(a)
    return fds


def _close_all(fds: list[int]) -> None:
    while fds:
        try:
            os.close(fds.pop())
        except OSError:
            pass


def _reap(pid: int) -> int:
    try:
        _, status = os.waitpid(pid, 0)
    except ChildProcessError:
        return 0
    return status


def _describe_status(status: int) -> str:
    if os.WIFSIGNALED(status):
        return f"signal: {os.WTERMSIG(status)}"
    return f"exit status {os.waitstatus_to_exitcode(status)}"
