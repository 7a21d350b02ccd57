"""The parent's side of the sync socket with a spawning container process."""

from __future__ import annotations

import os

from runtime.errors import ChildError, PyruncError
from runtime.native import INIT, ffi, init_program, lib
from runtime.native.plan import Plan

__all__ = ["Channel", "ChildError"]


class Channel:
    """Spawn a plan and talk to the child: wait for syncs, ack them, collect errors."""

    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        fds = ffi.new("int[2]")
        r = lib.pyrunc_socketpair(fds)
        if r < 0:
            raise PyruncError(f"socketpair: {os.strerror(-r)}")
        self.fd, self.child_fd = fds[0], fds[1]
        self.pid = 0
        self.pending: list = []  # messages that arrived before pyrunc-init's pid report

    def spawn(self) -> int:
        """Run the plan: pyrunc-init clones the container process, our child."""
        cplan = self.plan.to_c(self.child_fd)
        plan_fd = lib.pyrunc_plan_memfd(cplan)
        program_fd = -1
        try:
            if plan_fd < 0:
                raise PyruncError(f"write the plan: {os.strerror(-plan_fd)}")
            path, program_fd = init_program.program()
            # dup2 onto itself clears close-on-exec in the new process only.
            inherit = sorted({plan_fd, self.child_fd, *self.plan.fds})
            try:
                pid = os.posix_spawn(path, ["pyrunc-init", str(plan_fd), str(self.child_fd)], {},
                                     file_actions=[(os.POSIX_SPAWN_DUP2, fd, fd) for fd in inherit])
            except OSError as err:
                raise PyruncError(f"start {INIT}: {err.strerror}") from None
        finally:
            for fd in (plan_fd, program_fd):
                if fd >= 0:
                    os.close(fd)
            os.close(self.child_fd)
            self.child_fd = -1
        try:
            # The container process shares the socket and may speak first.
            while True:
                msg, fd = self.recv()
                if msg.type == lib.MSG_CHILD_PID:
                    break
                self.pending.append((msg, fd))
        finally:
            os.waitpid(pid, 0)
        self.pid = int(msg.value)
        return self.pid

    def recv(self, timeout_ms: int = -1):
        msg = ffi.new("struct pyrunc_msg *")
        fdp = ffi.new("int *", -1)
        r = lib.pyrunc_recv_msg(self.fd, msg, fdp, timeout_ms)
        if r < 0:
            raise PyruncError(f"reading from the container process: {os.strerror(-r)}")
        if msg.type == lib.MSG_ERROR:
            what = ffi.string(msg.text).decode(errors="replace") or self.plan.describe(
                msg.op_index)
            err = int(msg.err)
            raise ChildError(f"{what}: {os.strerror(err)}" if err else what, err)
        return msg, fdp[0]

    def wait_sync(self) -> tuple[str, int]:
        """Wait for the child's next sync point; returns (name, fd passed or -1)."""
        msg, fd = self.pending.pop(0) if self.pending else self.recv()
        if msg.type == lib.MSG_FD:
            return "fd", fd
        if msg.type != lib.MSG_SYNC:
            raise PyruncError(f"unexpected message {msg.type} from the container process")
        return self.plan.sync_ids.get(int(msg.value), "?"), fd

    def _send(self, kind: int) -> None:
        msg = ffi.new("struct pyrunc_msg *")
        msg.type = kind
        r = lib.pyrunc_send_msg(self.fd, msg, -1)
        if r < 0:
            raise PyruncError(f"writing to the container process: {os.strerror(-r)}")

    def ack(self) -> None:
        self._send(lib.MSG_ACK)

    def close(self) -> None:
        for fd in (self.fd, self.child_fd):
            if fd >= 0:
                try:
                    os.close(fd)
                except OSError:
                    pass
        self.fd = self.child_fd = -1
