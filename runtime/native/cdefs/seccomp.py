"""Declarations of the seccomp part of the extension (csrc/seccomp.c, libseccomp)."""

INCLUDES = ""

CDEF = """
unsigned int pyrunc_libseccomp_version(void);
"""
