"""Reading and writing cgroup control files, with runc-style one-line errors."""

from __future__ import annotations

import errno as _errno
import os

from runtime.cgroups import CgroupError

MAX_UINT64 = (1 << 64) - 1


class CgroupFileError(CgroupError):
    """A control file could not be read or written; ``errno`` tells why."""

    def __init__(self, msg: str, err: int) -> None:
        super().__init__(msg)
        self.errno = err


def describe(err: OSError) -> str:
    """Lower-case strerror, like Go's syscall.Errno text that runc prints."""
    text = os.strerror(err.errno) if err.errno else str(err)
    return text[:1].lower() + text[1:]


def write(directory: str, name: str, data: str) -> None:
    """Write ``data`` to ``directory/name`` in one write(2), as the kernel expects."""
    if not directory:
        raise CgroupFileError(f"cannot write {name}: cgroup path is not set", _errno.ENOENT)
    path = os.path.join(directory, name)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CLOEXEC)
    except OSError as e:
        raise CgroupFileError(f"open {path}: {describe(e)}", e.errno) from None
    try:
        os.write(fd, data.encode())
    except OSError as e:
        raise CgroupFileError(f'failed to write "{data}": write {path}: {describe(e)}',
                              e.errno) from None
    finally:
        os.close(fd)


def write_by_line(directory: str, name: str, data: str) -> None:
    """Write a multi-line value one line per write(2) (io.max, rdma.max, ... take one)."""
    if "\n" not in data:
        write(directory, name, data)
        return
    for line in data.split("\n"):
        if line:
            write(directory, name, line)


def read(directory: str, name: str) -> str:
    path = os.path.join(directory, name)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError as e:
        raise CgroupFileError(f"open {path}: {describe(e)}", e.errno) from None
    try:
        chunks = []
        while True:
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            chunks.append(chunk)
        return b"".join(chunks).decode()
    except OSError as e:
        raise CgroupFileError(f"read {path}: {describe(e)}", e.errno) from None
    finally:
        os.close(fd)


def parse_uint(text: str, where: str = "") -> int:
    """Parse a cgroup number as runc does: "max" is 2^64-1, negative numbers are 0."""
    text = text.strip()
    if text == "max":
        return MAX_UINT64
    try:
        value = int(text)
    except ValueError:
        raise CgroupError(f"unable to parse {q(text)} as a uint from {where}") from None
    return max(value, 0)


def read_uint(directory: str, name: str) -> int:
    return parse_uint(read(directory, name), os.path.join(directory, name))


def read_int(directory: str, name: str) -> int:
    text = read(directory, name).strip()
    try:
        return int(text)
    except ValueError:
        raise CgroupError(f"unable to parse {q(text)} as an int from "
                          f"{os.path.join(directory, name)}") from None


def read_keyed(directory: str, name: str) -> dict[str, int]:
    """Parse a flat keyed file ("key value" per line), e.g. memory.stat or cpu.stat."""
    out: dict[str, int] = {}
    for line in read(directory, name).splitlines():
        parts = line.split()
        if len(parts) == 2:
            out[parts[0]] = parse_uint(parts[1], os.path.join(directory, name))
    return out


def exists(directory: str, name: str) -> bool:
    return os.path.exists(os.path.join(directory, name))


def q(value) -> str:
    """Quote a value for a message the way Go's %q / JSON would ("x", not 'x')."""
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
    import json

    try:
        return json.dumps(value)
    except (TypeError, ValueError):
        return str(value)
