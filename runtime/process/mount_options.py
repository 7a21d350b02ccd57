"""Mount option strings -> mount(2) flags, propagation flags and filesystem data."""

from __future__ import annotations

from runtime.native import lib

# option -> (clear?, flag)
FLAGS = {
    "async": (True, lib.MS_SYNCHRONOUS),
    "atime": (True, lib.MS_NOATIME),
    "bind": (False, lib.MS_BIND),
    "defaults": (False, 0),
    "dev": (True, lib.MS_NODEV),
    "diratime": (True, lib.MS_NODIRATIME),
    "dirsync": (False, lib.MS_DIRSYNC),
    "exec": (True, lib.MS_NOEXEC),
    "lazytime": (False, lib.MS_LAZYTIME),
    "nolazytime": (True, lib.MS_LAZYTIME),
    "loud": (True, lib.MS_SILENT),
    "mand": (False, lib.MS_MANDLOCK),
    "nomand": (True, lib.MS_MANDLOCK),
    "noatime": (False, lib.MS_NOATIME),
    "nodev": (False, lib.MS_NODEV),
    "nodiratime": (False, lib.MS_NODIRATIME),
    "noexec": (False, lib.MS_NOEXEC),
    "norelatime": (True, lib.MS_RELATIME),
    "nostrictatime": (True, lib.MS_STRICTATIME),
    "nosuid": (False, lib.MS_NOSUID),
    "nosymfollow": (False, lib.MS_NOSYMFOLLOW),
    "symfollow": (True, lib.MS_NOSYMFOLLOW),
    "rbind": (False, lib.MS_BIND | lib.MS_REC),
    "relatime": (False, lib.MS_RELATIME),
    "remount": (False, lib.MS_REMOUNT),
    "ro": (False, lib.MS_RDONLY),
    "rw": (True, lib.MS_RDONLY),
    "silent": (False, lib.MS_SILENT),
    "strictatime": (False, lib.MS_STRICTATIME),
    "suid": (True, lib.MS_NOSUID),
    "sync": (False, lib.MS_SYNCHRONOUS),
}

PROPAGATION = {
    "private": lib.MS_PRIVATE,
    "rprivate": lib.MS_PRIVATE | lib.MS_REC,
    "shared": lib.MS_SHARED,
    "rshared": lib.MS_SHARED | lib.MS_REC,
    "slave": lib.MS_SLAVE,
    "rslave": lib.MS_SLAVE | lib.MS_REC,
    "unbindable": lib.MS_UNBINDABLE,
    "runbindable": lib.MS_UNBINDABLE | lib.MS_REC,
}


def parse(options: list[str]) -> tuple[int, list[int], str]:
    """Return (flags, propagation flags in order, data string)."""
    flags = 0
    propagation: list[int] = []
    data: list[str] = []
    for opt in options:
        if opt in FLAGS:
            clear, bit = FLAGS[opt]
            flags = flags & ~bit if clear else flags | bit
        elif opt in PROPAGATION:
            propagation.append(PROPAGATION[opt])
        else:
            data.append(opt)
    return flags, propagation, ",".join(data)
