"""The file pyrunc-init is executed from: itself, or a sealed copy of it.

Until its last execve a container process is a clone of pyrunc-init, so its
/proc/<pid>/exe is that file.  Root's waiting init is non-dumpable, so no process
of the container can open it; an unprivileged caller's stays dumpable (its own
`exec` must open the init's namespaces, docs/rootless.md).  If that caller may
write pyrunc-init (pyrunc in the user's own venv), a process in the container,
which is the same user, could reopen it for writing after the init's execve and
plant code the user's next container runs outside it (CVE-2019-5736).  Then the
clone is made from a sealed memfd copy instead, as runc 1.1 does with its binary.
"""

from __future__ import annotations

import os

from runtime.native import INIT


def program(path: str = INIT, unprivileged: bool | None = None) -> tuple[str, int]:
    """(the path to execute, an fd to close once it is executed, or -1)."""
    if unprivileged is None:
        unprivileged = os.geteuid() != 0
    if not unprivileged or not os.access(path, os.W_OK):
        return path, -1
    fd = sealed_copy(path)
    return f"/proc/self/fd/{fd}", fd


def sealed_copy(path: str) -> int:
    """A close-on-exec memfd holding the file at path, sealed against any change."""
    fd = os.memfd_create("pyrunc-init", os.MFD_CLOEXEC | os.MFD_ALLOW_SEALING)
    try:
        src = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        try:
            size = os.fstat(src).st_size
            done = 0
            while done < size:
                n = os.sendfile(fd, src, done, size - done)
                if n == 0:
                    raise OSError(f"{path} is shorter than its size")
                done += n
        finally:
            os.close(src)
        import fcntl  # here only: the common path does without its import

        fcntl.fcntl(fd, fcntl.F_ADD_SEALS, fcntl.F_SEAL_SEAL | fcntl.F_SEAL_SHRINK
                    | fcntl.F_SEAL_GROW | fcntl.F_SEAL_WRITE)
    except BaseException:
        os.close(fd)
        raise
    return fd
