"""The bytecode of pyrunc's own modules in one file, imported without importlib's search.

Every pyrunc command is a new interpreter, and most of its start-up is imports: a
`run` imports ~55 of our modules.  From files, each costs importlib ~40 µs before
its code runs (a directory stat, the source's stat, opening and checking the pyc,
path arithmetic in Python); from this archive ~15 µs: ~2 ms of a `run`.

The launcher's first use writes the archive next to this file (first_use.py;
`python -m runtime.startup.archive` does too); install() puts its finder first on
sys.meta_path.  An entry is used only while its source file has the size and
mtime it was compiled from, so an edited module, one not in the archive, or a
missing, foreign or writable-by-others archive are all imported as usual.  The
archive holds a marshalled index (module name -> source path, is a package, the
source's mtime_ns and size, where its code is), then each module's marshalled
code: a command reads and unmarshals only the code of the modules it imports,
one pread each.
"""

# No `from __future__ import annotations` here: this module is imported before its
# finder serves __future__ (below, STANDARD).
import marshal
import os
import sys

ARCHIVE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "modules.archive")
PACKAGES = ("runtime", "spec")  # pyrunc's own; the tests and tools stay out
# Standard modules every command imports from the file system: __future__ (our
# modules' `from __future__ import annotations`) would cost a listing of the
# standard library's directory as well (~0.2 ms).
STANDARD = ("__future__",)
# Then this interpreter's bytecode magic (an archive from another Python version is
# ignored), the index's length (8 bytes), the index and the code.
MAGIC = b"pyrunc-modules-1\n"


class Finder:
    """A meta path finder and loader serving the archive's entries.

    It holds no file descriptor: one left open could fill a hole in a caller's
    --preserve-fds range and be passed into a container.  Each import opens the
    archive, checks it is still the file whose index was read, and reads one
    module's code."""

    def __init__(self, archive: str, identity: tuple[int, int], index: dict, code_at: int,
                 spec_class: type) -> None:
        self.archive = archive
        self.identity = identity  # (inode, mtime_ns): a rewritten archive is another file
        self.index = index
        self.code_at = code_at  # where the code starts, after the index
        self.spec_class = spec_class

    def find_spec(self, name: str, path=None, target=None):
        entry = self.index.get(name)
        if entry is None:
            return None
        origin, is_package, mtime_ns, size, _, _ = entry
        try:
            st = os.stat(origin)
        except OSError:
            return None
        if st.st_mtime_ns != mtime_ns or st.st_size != size:
            return None  # edited since the archive was written: from the file
        spec = self.spec_class(name, self, origin=origin, is_package=is_package)
        if is_package:
            spec.submodule_search_locations = [os.path.dirname(origin)]
        spec.has_location = True  # sets __file__
        return spec

    def create_module(self, spec) -> None:
        return None  # the default module object

    def exec_module(self, module) -> None:
        *_, offset, length = self.index[module.__spec__.name]
        fd = os.open(self.archive, os.O_RDONLY | os.O_CLOEXEC)
        try:
            st = os.fstat(fd)
            data = os.pread(fd, length, self.code_at + offset) \
                if (st.st_ino, st.st_mtime_ns) == self.identity else None
        finally:
            os.close(fd)
        if data is None:  # rewritten by a set-up since this command started
            code = _compile(module.__spec__.origin)
        else:
            code = marshal.loads(data)
        exec(code, module.__dict__)


def install(archive: str = ARCHIVE) -> bool:
    """Serve imports from the archive, if there is one; False if not."""
    try:
        # importlib.machinery's names; importing the importlib package costs ~0.4 ms.
        from _frozen_importlib import ModuleSpec
        from _frozen_importlib_external import MAGIC_NUMBER
    except ImportError:
        return False
    try:
        fd = os.open(archive, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return False
    try:
        st = os.fstat(fd)
        if st.st_uid not in (0, os.geteuid()) or st.st_mode & 0o022:
            # Code run as root: only from a file no one else could have written.
            raise ValueError("an archive others can write")
        expected = MAGIC + MAGIC_NUMBER
        head = os.pread(fd, len(expected) + 8, 0)
        if head[:len(expected)] != expected:
            raise ValueError("not a module archive of this Python")
        size = int.from_bytes(head[len(expected):], "little")
        index = marshal.loads(os.pread(fd, size, len(head)))
        if not isinstance(index, dict):
            raise ValueError("not a module archive")
    except (OSError, ValueError, EOFError, TypeError):
        return False
    finally:
        os.close(fd)
    sys.meta_path.insert(0, Finder(archive, (st.st_ino, st.st_mtime_ns), index,
                                   len(head) + size, ModuleSpec))
    return True


def build(archive: str = ARCHIVE, roots: tuple[str, ...] = PACKAGES,
          base: str | None = None, standard: tuple[str, ...] = STANDARD) -> int:
    """Compile every module under the packages `roots` (directories in `base`, the
    repository by default) and the `standard` modules into the archive; returns how
    many it holds."""
    base = base or os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    entries = []
    for name in standard:
        __import__(name)
        entries.append(_entry(name, sys.modules[name].__file__, False))
    for root in roots:
        for dirpath, dirnames, filenames in os.walk(os.path.join(base, root)):
            dirnames[:] = sorted(d for d in dirnames if d != "__pycache__")
            package = os.path.relpath(dirpath, base).replace(os.sep, ".")
            for filename in sorted(filenames):
                if not filename.endswith(".py"):
                    continue
                is_package = filename == "__init__.py"
                name = package if is_package else f"{package}.{filename[:-3]}"
                entries.append(_entry(name, os.path.join(dirpath, filename), is_package))
    index, offset = {}, 0  # offsets count from the end of the index
    for name, path, is_package, mtime_ns, size, code in entries:
        index[name] = (path, is_package, mtime_ns, size, offset, len(code))
        offset += len(code)
    packed = marshal.dumps(index)
    from _frozen_importlib_external import MAGIC_NUMBER

    # A new file of our own (never one planted under the name), then renamed over.
    tmp = os.path.join(os.path.dirname(archive), f".{os.path.basename(archive)}.{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(MAGIC + MAGIC_NUMBER + len(packed).to_bytes(8, "little") + packed)
            for *_, code in entries:
                f.write(code)
        os.replace(tmp, archive)
    except BaseException:
        os.unlink(tmp)
        raise
    return len(entries)


def _entry(name: str, path: str, is_package: bool) -> tuple:
    # Stat first: a file edited while it is read then no longer matches its entry.
    st = os.stat(path)
    code = marshal.dumps(_compile(path))
    return name, path, is_package, st.st_mtime_ns, st.st_size, code


def _compile(path: str):
    with open(path, "rb") as f:
        return compile(f.read(), path, "exec", dont_inherit=True)


if __name__ == "__main__":
    print(f"{build()} modules in {ARCHIVE}")
