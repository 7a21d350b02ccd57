"""The state store: <root>/<id>/ holds state.json (what `state` prints and what
the runtime needs later), config.json (the bundle's config at create time) and,
while the container is created but not started, start.sock.

Writes are atomic (write a temp file, rename), except the first one of
config.json, which nothing reads before state.json exists.  Commands that change a
container hold an flock on its directory, so they are serialized.
"""

from __future__ import annotations

import fcntl
import os

from runtime.errors import NotExistError, PyruncError
from spec.jsonio import dumps, loads

# runc's id pattern ^[\w+-.]+$, checked without importing re (~4 ms per command).
_ID_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_+-.")

STATE = "state.json"
CONFIG = "config.json"
START_SOCKET = "start.sock"


def validate_id(container_id: str) -> None:
    if (not container_id or container_id in (".", "..")
            or not _ID_CHARS.issuperset(container_id)):
        raise PyruncError(f"invalid container id format: {container_id}")


class Store:
    def __init__(self, root: str) -> None:
        self.root = os.path.abspath(root)

    def path(self, container_id: str) -> str:
        validate_id(container_id)
        return os.path.join(self.root, container_id)

    def ids(self) -> list[str]:
        try:
            return sorted(os.listdir(self.root))
        except FileNotFoundError:
            return []

    def create_dir(self, container_id: str) -> str:
        path = self.path(container_id)
        try:
            os.makedirs(self.root, mode=0o711, exist_ok=True)
            os.mkdir(path, 0o711)
        except FileExistsError:
            raise PyruncError(f"container with id exists: {container_id}") from None
        except OSError as e:
            raise PyruncError(f"create state directory {path}: {e.strerror}") from None
        return path


class Lock:
    """An flock on the container directory; raises NotExistError if it is gone."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.fd = -1

    def __enter__(self) -> Lock:
        try:
            self.fd = os.open(self.path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        except FileNotFoundError:
            raise NotExistError() from None
        fcntl.flock(self.fd, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc: object) -> None:
        os.close(self.fd)


def write_json(directory: str, name: str, data: dict) -> None:
    tmp = os.path.join(directory, f".{name}.tmp")
    try:
        _write(tmp, data, os.O_TRUNC)
        os.rename(tmp, os.path.join(directory, name))
    except OSError as e:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise PyruncError(f"write {name} in {directory}: {e.strerror}") from None


def write_new_json(directory: str, name: str, data: dict) -> None:
    """A file that does not exist yet and that nobody reads until another file says
    so: written in place, without write_json's temporary file and rename."""
    try:
        _write(os.path.join(directory, name), data, os.O_EXCL)
    except OSError as e:
        raise PyruncError(f"write {name} in {directory}: {e.strerror}") from None


def _write(path: str, data: dict, flag: int) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | flag | os.O_CLOEXEC, 0o600)
    try:
        body = dumps(data).encode()
        if os.write(fd, body) != len(body):  # a full filesystem: ENOSPC next time
            raise OSError(28, os.strerror(28))
    finally:
        os.close(fd)


def read_json(directory: str, name: str) -> dict:
    try:
        with open(os.path.join(directory, name), "rb") as f:
            return loads(f.read())
    except FileNotFoundError:
        raise NotExistError() from None
    except (OSError, ValueError) as e:
        raise PyruncError(f"read {name} of container: {e}") from None


def remove_dir(path: str) -> None:
    """rm -rf for a state directory (shutil costs ~2 ms of imports); errors ignored.
    Never follows a symlink, the top one included: like rm -rf, it removes the link."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError:
        if os.path.islink(path):
            try:
                os.unlink(path)
            except OSError:
                pass
        return
    try:
        _empty_dir(fd)
    finally:
        os.close(fd)
    try:
        os.rmdir(path)
    except OSError:
        pass


def _empty_dir(dfd: int) -> None:
    """Remove everything in the directory open at dfd, relative to it (no path walks)."""
    try:
        entries = list(os.scandir(dfd))
    except OSError:
        return
    for e in entries:
        try:
            if e.is_dir(follow_symlinks=False):
                sub = os.open(e.name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC,
                              dir_fd=dfd)
                try:
                    _empty_dir(sub)
                finally:
                    os.close(sub)
                os.rmdir(e.name, dir_fd=dfd)
            else:
                os.unlink(e.name, dir_fd=dfd)
        except OSError:
            pass
