"""Idmapped bind mounts (config.md "Mounts": uidMappings/gidMappings, idmap, ridmap).

The host must idmap the mount (its filesystem belongs to the host's user
namespace), so the runtime prepares it before the container process exists:
open_tree() clones the source into a detached tree, mount_setattr() applies
the mapping of a user namespace made for the purpose, and the container
process, which inherits the fd, attaches it with OP_MOVE_MOUNT.  The user
namespace comes from a child cloned into it, whose maps we write and whose
/proc/<pid>/ns/user we keep open (the way runc 1.2 does it); one per mapping.
"""

from __future__ import annotations

import _signal as signal  # the signal module's enums cost ~3 ms
import os

from runtime.errors import PyruncError


def _maps_text(maps: list[dict]) -> str:
    return "".join(f"{int(m['containerID'])} {int(m['hostID'])} {int(m['size'])}\n"
                   for m in maps)


class IdmapTrees:
    """Detached, idmapped trees for one create, and the user namespaces behind them.
    close() once the container process has been spawned (it holds its own copies)."""

    def __init__(self, linux: dict, new_userns: bool) -> None:
        self.linux = linux
        self.new_userns = new_userns
        self._userns: dict[tuple[str, str], int] = {}
        self.fds: list[int] = []

    def tree(self, m: dict, source: str, dest: str, recursive: bool) -> int:
        """The fd of a detached copy of source with the mount's idmapping applied."""
        from runtime.native import lib

        opts = m.get("options") or []
        uid_maps, gid_maps = self._mappings(m, dest)
        userns = self._userns_fd(uid_maps, gid_maps)
        fd = lib.pyrunc_open_tree(source.encode(), 1 if recursive else 0)
        if fd < 0:
            raise PyruncError(f"mount {source} to {dest}: open_tree: {os.strerror(-fd).lower()}")
        self.fds.append(fd)
        r = lib.pyrunc_mount_setattr(fd, 1 if "ridmap" in opts else 0, lib.MOUNT_ATTR_IDMAP, 0,
                                     userns)
        if r < 0:
            raise PyruncError(f"mount {source} to {dest}: set the idmapping: "
                              f"{os.strerror(-r).lower()}")
        return fd

    def _mappings(self, m: dict, dest: str) -> tuple[list[dict], list[dict]]:
        uid_maps, gid_maps = m.get("uidMappings") or [], m.get("gidMappings") or []
        if bool(uid_maps) != bool(gid_maps):
            raise PyruncError(f"mount {dest}: uidMappings and gidMappings must be given "
                              "together")
        if uid_maps:
            return uid_maps, gid_maps
        # idmap/ridmap without mappings: the container's user namespace mapping.
        if not self.new_userns or not self.linux.get("uidMappings"):
            raise PyruncError(f"mount {dest}: idmapped mount without uidMappings and "
                              "gidMappings needs the container to have a user namespace")
        return self.linux["uidMappings"], self.linux.get("gidMappings") or []

    def _userns_fd(self, uid_maps: list[dict], gid_maps: list[dict]) -> int:
        key = (_maps_text(uid_maps), _maps_text(gid_maps))
        if key not in self._userns:
            self._userns[key] = _make_userns(*key)
            self.fds.append(self._userns[key])
        return self._userns[key]

    def close(self) -> None:
        for fd in self.fds:
            try:
                os.close(fd)
            except OSError:
                pass
        self.fds.clear()
        self._userns.clear()


def _make_userns(uid_map: str, gid_map: str) -> int:
    """An fd of a new user namespace with these maps."""
    from runtime.native import lib

    pid = lib.pyrunc_clone_userns()
    if pid < 0:
        raise PyruncError(f"create a user namespace for an idmapped mount: "
                          f"{os.strerror(-pid).lower()}")
    try:
        for name, text in (("uid_map", uid_map), ("gid_map", gid_map)):
            try:
                with open(f"/proc/{pid}/{name}", "w") as f:
                    f.write(text)
            except OSError as e:
                raise PyruncError(f"write {name} of the idmapped mount's user namespace: "
                                  f"{e.strerror}") from None
        return os.open(f"/proc/{pid}/ns/user", os.O_RDONLY | os.O_CLOEXEC)
    finally:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
