"""Build a plan: the ordered operations the container process runs in C.

Each operation is one syscall step (see csrc/pyrunc.h).  The Plan keeps every
cffi object it hands to C alive until it is written for pyrunc-init (channel.py),
and a description of each operation for error messages.
"""

from __future__ import annotations

from runtime.errors import PyruncError
from runtime.native import ffi, lib


class Plan:
    def __init__(self) -> None:
        self.pre: list[dict] = []      # stage-1 operations (joining namespaces)
        self.ops: list[dict] = []
        self.what: list[str] = []      # human description per op, for errors
        self.pre_what: list[str] = []
        self.clone_flags = 0
        self.cgroup_fd = -1            # cgroup2 directory to clone into (cgroup_join.py)
        self.sync_ids: dict[int, str] = {}
        self.fds: list[int] = []       # the runtime's fds the plan uses (to_c)
        self._keep: list = []

    # -- building -----------------------------------------------------
    def add(self, kind: int, what: str, *, fd: int = -1, flags: int = 0,
            n: tuple[int, ...] = (), s: tuple[str | None, ...] = (),
            v: tuple[list[str], ...] = (), data: bytes | None = None, count: int = 0,
            pre: bool = False) -> None:
        op = {"kind": kind, "fd": fd, "flags": flags, "n": n, "s": s, "v": v,
              "data": data, "len": count}
        (self.pre if pre else self.ops).append(op)
        (self.pre_what if pre else self.what).append(what)

    def sync(self, name: str) -> None:
        """A point where the child waits for the parent (which acts on `name`)."""
        ident = len(self.sync_ids) + 1
        self.sync_ids[ident] = name
        self.add(lib.OP_SYNC, f"sync {name}", n=(ident,))

    # -- marshalling to C ----------------------------------------------
    def _cstr(self, value: str | None):
        if value is None:
            return ffi.NULL
        if "\0" in value:  # C would silently cut the string there
            raise PyruncError(f"invalid string {value!r}: it contains a NUL byte")
        obj = ffi.new("char[]", value.encode())
        self._keep.append(obj)
        return obj

    def _cvec(self, values: list[str]):
        items = [self._cstr(x) for x in values] + [ffi.NULL]
        arr = ffi.new("char *[]", items)
        self._keep.append(arr)
        return arr

    def _fill(self, ops: list[dict]):
        arr = ffi.new("struct pyrunc_op[]", max(len(ops), 1))
        self._keep.append(arr)
        for i, op in enumerate(ops):
            c = arr[i]
            c.kind = op["kind"]
            c.fd = op["fd"]
            c.flags = op["flags"]
            for j, x in enumerate(op["n"]):
                c.n[j] = x
            for j, x in enumerate(op["s"]):
                c.s[j] = self._cstr(x)
            for j, x in enumerate(op["v"]):
                c.v[j] = self._cvec(x)
            if op["data"] is not None:
                buf = ffi.new("char[]", op["data"])
                self._keep.append(buf)
                c.data = buf
                c.data_size = len(op["data"])
                c.len = op["len"]
        return arr

    def to_c(self, sync_fd: int):
        plan = ffi.new("struct pyrunc_plan *")
        self._keep.append(plan)
        plan.sync_fd = sync_fd
        plan.clone_flags = self.clone_flags
        plan.cgroup_fd = self.cgroup_fd
        plan.pre_ops = self._fill(self.pre)
        plan.n_pre = len(self.pre)
        plan.ops = self._fill(self.ops)
        plan.n_ops = len(self.ops)
        # The fds the process may keep are the ones its OP_CLOSE_FDS spares; the
        # child closes the rest early, except the ones the plan itself uses.
        close_from = next((op["n"][0] for op in self.ops if op["kind"] == lib.OP_CLOSE_FDS), 0)
        keep = sorted({sync_fd} | {op["fd"] for op in self.pre + self.ops if op["fd"] >= 0})
        keep_arr = ffi.new("int[]", keep)
        self._keep.append(keep_arr)
        plan.close_from = close_from
        plan.keep_fds = keep_arr
        plan.n_keep = len(keep)
        self.fds = [*keep, self.cgroup_fd] if self.cgroup_fd >= 0 else keep
        return plan

    def describe(self, index: int) -> str:
        if index < 0:
            return self.pre_what[-1 - index] if -1 - index < len(self.pre_what) else "pyrunc-init"
        return self.what[index] if index < len(self.what) else f"operation {index}"
