"""cffi builder for runtime.native._pyrunc_native (out-of-line API mode), and the
build of pyrunc-init, the static program that clones container processes.

setup.py names this file in cffi_modules, so the extension compiles during
`pip install`, and its build_ext calls build_init() to put pyrunc-init beside the
extension.  Declarations live in cdefs/, one module per header.
"""

import os
import runpy
import shlex
import subprocess
import sysconfig
import tempfile

from cffi import FFI

HERE = os.path.dirname(os.path.abspath(__file__))
CSRC = os.path.join(HERE, "csrc")
SOURCES = ("spawn.c", "sync.c", "namespaces.c", "mounts.c", "devices.c", "creds.c",
           "process.c", "seccomp.c", "sched.c", "hook_spawn.c", "terminal.c", "exec.c",
           "mount_api.c", "mempolicy.c", "copyup.c", "sealed_exec.c", "keyring.c",
           "bpf.c",      # cgroup v2 device programs (runtime/cgroups/v2/devices.py)
           "cgroups.c",  # the container process joins its v1 cgroups itself
           "rlimits.c",
           "plan_wire.c")  # the plan through a memfd to pyrunc-init
# The extension alone links libseccomp (its version for `features`); pyrunc-init,
# static, runs the operations and nothing else.
EXTENSION_ONLY = ("libseccomp_version.c",)
INIT_FLAGS = ("-static", "-O2", "-std=gnu11", "-Wall", "-Wextra", "-ffunction-sections",
              "-fdata-sections", "-Wl,--gc-sections", "-s")
# The exec trampoline (csrc/trampoline.c) is its own static program: no libc, no
# relocations, one segment; the extension embeds its bytes (see sealed_exec.c).
TRAMPOLINE_FLAGS = ("-nostdlib", "-static", "-fno-pie", "-no-pie", "-Os", "-ffreestanding",
                    "-fno-builtin", "-fno-stack-protector", "-fno-asynchronous-unwind-tables",
                    "-fno-unwind-tables", "-fno-tree-loop-distribute-patterns", "-Wall",
                    "-Wextra", "-Werror", "-Wl,--build-id=none", "-Wl,-z,noseparate-code",
                    "-Wl,-z,noexecstack", "-s")


def _cdef_modules() -> list[dict]:
    names = runpy.run_path(os.path.join(HERE, "cdefs", "__init__.py"))["MODULES"]
    return [runpy.run_path(os.path.join(HERE, "cdefs", f"{n}.py")) for n in names]


def _compiler() -> list[str]:
    return shlex.split(os.environ.get("CC") or sysconfig.get_config_var("CC") or "cc")


def trampoline_c() -> str:
    """Compile the trampoline; C source of the byte array that holds it."""
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "trampoline")
        subprocess.run([*_compiler(), *TRAMPOLINE_FLAGS, "-I", CSRC, "-o", out,
                        os.path.join(CSRC, "trampoline.c")], check=True)
        with open(out, "rb") as f:
            data = f.read()
    rows = [",".join(str(b) for b in data[i:i + 32]) for i in range(0, len(data), 32)]
    return ("const unsigned char pyrunc_trampoline_elf[] = {\n" + ",\n".join(rows) + "};\n"
            "const unsigned long pyrunc_trampoline_size = sizeof(pyrunc_trampoline_elf);\n")


def build_init(out: str) -> None:
    """pyrunc-init, static: it starts in a fraction of a millisecond, and the clones
    it makes map only its few pages (csrc/init_helper.c)."""
    with tempfile.TemporaryDirectory() as tmp:
        trampoline = os.path.join(tmp, "trampoline_elf.c")
        with open(trampoline, "w") as f:
            f.write(trampoline_c())
        sources = [os.path.join(CSRC, s) for s in (*SOURCES, "init_helper.c")]
        subprocess.run([*_compiler(), *INIT_FLAGS, "-I", CSRC, "-o", out + ".tmp", *sources,
                        trampoline], check=True)
    os.replace(out + ".tmp", out)


def make_builder() -> FFI:
    ffi = FFI()
    mods = _cdef_modules()
    for m in mods:
        ffi.cdef(m["CDEF"])
    ffi.set_source(
        "runtime.native._pyrunc_native",
        "\n".join(m["INCLUDES"] for m in mods) + "\n" + trampoline_c(),
        sources=[os.path.relpath(os.path.join(CSRC, s)) for s in (*SOURCES, *EXTENSION_ONLY)],
        include_dirs=[os.path.relpath(CSRC)],
        libraries=["seccomp"],
        extra_compile_args=["-O2", "-Wall", "-Wextra", "-std=gnu11"],
    )
    return ffi


ffibuilder = make_builder()

if __name__ == "__main__":
    ffibuilder.compile(verbose=False)
