"""cffi declarations, one module per C header (as pyca/cryptography's _cffi_src).

Each module defines INCLUDES (C code placed in the generated source) and CDEF
(the declarations Python may use).  Constants are declared with `...` so that
their values come from the system headers at build time, never hard-coded.
"""

MODULES = ("pyrunc", "linux", "seccomp", "exec_guard", "bpf")  # bpf: cgroup v2 device programs
