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
    "iversion": (False, lib.MS_I_VERSION),
    "noiversion": (True, lib.MS_I_VERSION),
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


# Recursive options: mount_setattr(2) attributes for the whole tree (AT_RECURSIVE).
# option -> (clear?, attribute)
RECURSIVE = {
    "rro": (False, lib.MOUNT_ATTR_RDONLY),
    "rrw": (True, lib.MOUNT_ATTR_RDONLY),
    "rnosuid": (False, lib.MOUNT_ATTR_NOSUID),
    "rsuid": (True, lib.MOUNT_ATTR_NOSUID),
    "rnodev": (False, lib.MOUNT_ATTR_NODEV),
    "rdev": (True, lib.MOUNT_ATTR_NODEV),
    "rnoexec": (False, lib.MOUNT_ATTR_NOEXEC),
    "rexec": (True, lib.MOUNT_ATTR_NOEXEC),
    "rnodiratime": (False, lib.MOUNT_ATTR_NODIRATIME),
    "rdiratime": (True, lib.MOUNT_ATTR_NODIRATIME),
    "rrelatime": (False, lib.MOUNT_ATTR_RELATIME),
    "rnorelatime": (True, lib.MOUNT_ATTR_RELATIME),
    "rnoatime": (False, lib.MOUNT_ATTR_NOATIME),
    "ratime": (True, lib.MOUNT_ATTR_NOATIME),
    "rstrictatime": (False, lib.MOUNT_ATTR_STRICTATIME),
    "rnostrictatime": (True, lib.MOUNT_ATTR_STRICTATIME),
    "rnosymfollow": (False, lib.MOUNT_ATTR_NOSYMFOLLOW),
    "rsymfollow": (True, lib.MOUNT_ATTR_NOSYMFOLLOW),
}

# Ask for an idmapped mount (runtime/process/idmap.py); never passed to mount(2).
IDMAP = ("idmap", "ridmap")

# A tmpfs that starts with a copy of what the image had at its destination (runc's
# extension, podman --read-only); a pyrunc-level option, never passed to mount(2).
COPYUP = "tmpcopyup"


def wants_idmap(m: dict) -> bool:
    """Whether the mount asks for an idmapping (process/idmap.py makes its tree)."""
    return bool(m.get("uidMappings") or m.get("gidMappings")
                or any(o in IDMAP for o in m.get("options") or []))


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
        elif opt in RECURSIVE or opt in IDMAP or opt == COPYUP:
            continue  # see recursive_attrs(), idmap.py and mounts.py
        else:
            data.append(opt)
    return flags, propagation, ",".join(data)


def recursive_attrs(options: list[str]) -> tuple[int, int]:
    """(attributes to set, to clear) for mount_setattr(AT_RECURSIVE); later options win."""
    attr_set = attr_clr = 0
    for opt in options:
        if opt not in RECURSIVE:
            continue
        clear, attr = RECURSIVE[opt]
        # The atime settings (relatime = 0, noatime, strictatime) are one field,
        # which mount_setattr(2) only clears whole; the others are single bits.
        in_atime = attr & lib.MOUNT_ATTR__ATIME == attr
        if clear and in_atime:
            if attr:  # clearing relatime (0) changes nothing, as with mount(8)
                attr_set &= ~lib.MOUNT_ATTR__ATIME
                attr_clr |= lib.MOUNT_ATTR__ATIME
        elif clear:
            attr_clr |= attr
            attr_set &= ~attr
        elif in_atime:
            attr_set = (attr_set & ~lib.MOUNT_ATTR__ATIME) | attr
            attr_clr |= lib.MOUNT_ATTR__ATIME
        else:
            attr_set |= attr
            attr_clr &= ~attr
    return attr_set, attr_clr
