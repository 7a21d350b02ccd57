"""cffi builder for runtime.native._pyrunc_native (out-of-line API mode).

setup.py names this file in cffi_modules, so the extension compiles during
`pip install`.  Declarations live in cdefs/, one module per header.
"""

import os
import runpy

from cffi import FFI

HERE = os.path.dirname(os.path.abspath(__file__))
CSRC = os.path.join(HERE, "csrc")
SOURCES = ("spawn.c", "sync.c", "namespaces.c", "mounts.c", "devices.c", "creds.c",
           "process.c", "seccomp.c", "sched.c", "hook_spawn.c", "terminal.c", "exec.c",
           "mount_api.c", "mempolicy.c", "copyup.c")
SOURCES += ("bpf.c",)   # cgroup v2 device programs (runtime/cgroups/v2/devices.py)


def _cdef_modules() -> list[dict]:
    names = runpy.run_path(os.path.join(HERE, "cdefs", "__init__.py"))["MODULES"]
    return [runpy.run_path(os.path.join(HERE, "cdefs", f"{n}.py")) for n in names]


def make_builder() -> FFI:
    ffi = FFI()
    mods = _cdef_modules()
    for m in mods:
        ffi.cdef(m["CDEF"])
    ffi.set_source(
        "runtime.native._pyrunc_native",
        "\n".join(m["INCLUDES"] for m in mods),
        sources=[os.path.relpath(os.path.join(CSRC, s)) for s in SOURCES],
        include_dirs=[os.path.relpath(CSRC)],
        libraries=["seccomp"],
        extra_compile_args=["-O2", "-Wall", "-Wextra", "-std=gnu11"],
    )
    return ffi


ffibuilder = make_builder()

if __name__ == "__main__":
    ffibuilder.compile(verbose=False)
