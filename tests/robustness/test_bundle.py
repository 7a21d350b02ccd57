"""The module archive (runtime/bundle.py): used by the launcher, and never in the way
of a module that changed, one it lacks, or an archive it cannot read."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.support.runtime import DEFAULT_BINARY, REPO

IMPORT = """
import sys
sys.path.insert(0, {base!r})
sys.path.insert(0, {repo!r})
from runtime.bundle import install
print(install({archive!r}))
import pkg.mod, pkg.late
print(pkg.mod.VALUE, type(pkg.mod.__spec__.loader).__name__, pkg.mod.__file__)
print(pkg.late.VALUE, type(pkg.late.__spec__.loader).__name__)
"""


def _import(tmp_path) -> list[str]:
    code = IMPORT.format(base=str(tmp_path), repo=REPO, archive=str(tmp_path / "a.bundle"))
    out = subprocess.run([sys.executable, "-S", "-c", code], capture_output=True, text=True,
                         check=True)
    return out.stdout.splitlines()


def _package(tmp_path) -> None:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (tmp_path / "pkg" / "mod.py").write_text("VALUE = 'archived'\n")


def _build(tmp_path) -> int:
    sys.path.insert(0, REPO)
    from runtime.bundle import build

    return build(str(tmp_path / "a.bundle"), roots=("pkg",), base=str(tmp_path), standard=())


def test_modules_come_from_the_archive_until_their_source_changes(tmp_path):
    _package(tmp_path)
    assert _build(tmp_path) == 2
    # Added after the archive was written: from its file, in the archived package.
    (tmp_path / "pkg" / "late.py").write_text("VALUE = 'late'\n")
    mod = str(tmp_path / "pkg" / "mod.py")
    assert _import(tmp_path) == ["True", f"archived Finder {mod}", "late SourceFileLoader"]
    (tmp_path / "pkg" / "mod.py").write_text("VALUE = 'edited'\n")
    assert _import(tmp_path) == ["True", f"edited SourceFileLoader {mod}",
                                 "late SourceFileLoader"]


def test_an_unreadable_or_foreign_archive_is_ignored(tmp_path):
    _package(tmp_path)
    (tmp_path / "pkg" / "late.py").write_text("VALUE = 'late'\n")
    mod = str(tmp_path / "pkg" / "mod.py")
    expected = ["False", f"archived SourceFileLoader {mod}", "late SourceFileLoader"]
    assert _import(tmp_path) == expected  # no archive at all
    (tmp_path / "a.bundle").write_bytes(b"garbage")
    assert _import(tmp_path) == expected
    _build(tmp_path)
    data = (tmp_path / "a.bundle").read_bytes()
    magic = b"pyrunc-bundle-1\n"
    # The same archive as another Python version would have written it.
    (tmp_path / "a.bundle").write_bytes(magic + b"\0\0\0\0" + data[len(magic) + 4:])
    assert _import(tmp_path) == expected


def test_a_rewritten_archive_is_not_read_at_the_old_offsets(tmp_path):
    """A set-up rewriting the archive while a command runs: that command's later
    imports come from their sources, not from whatever the new file holds there."""
    _package(tmp_path)
    (tmp_path / "apkg").mkdir()
    (tmp_path / "apkg" / "__init__.py").write_text("")
    (tmp_path / "apkg" / "big.py").write_text("DATA = %r\n" % ("x" * 5000))
    _build(tmp_path)
    code = (f"import sys\nsys.path[:0] = [{str(tmp_path)!r}, {REPO!r}]\n"
            "from runtime.bundle import install, build\n"
            f"assert install({str(tmp_path / 'a.bundle')!r})\n"
            f"build({str(tmp_path / 'a.bundle')!r}, roots=('apkg', 'pkg'), "
            f"base={str(tmp_path)!r}, standard=())\n"
            "import pkg.mod\nprint(pkg.mod.VALUE)\n")
    out = subprocess.run([sys.executable, "-S", "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out == "archived\n"


def test_no_fd_of_the_archive_fills_a_preserved_fd(rt, bundle):
    """The caller has no fd 3: --preserve-fds 1 must be refused, not given an fd the
    runtime holds (one on the archive would let the container rewrite pyrunc)."""
    p = rt("run", "--preserve-fds", "1", "-b", bundle.path, bundle.id)
    assert p.returncode != 0
    assert "unable to stat preserved-fd" in p.stderr
    assert bundle.id not in rt.ids()


def test_the_launcher_imports_pyrunc_from_the_archive():
    """PYTHONVERBOSE names each module's loader: none of ours from a pyc file, nor
    __future__ (which all of them import) from the standard library's directory."""
    env = dict(os.environ, PYTHONVERBOSE="1")
    p = subprocess.run([DEFAULT_BINARY, "--version"], capture_output=True, text=True, env=env,
                       check=True)
    ours = [line for line in p.stderr.splitlines() if line.startswith("import 'runtime.")]
    assert ours, p.stderr[-2000:]
    # The package and the archive's own module come first, from their files.
    before = (f"{REPO}/runtime/__pycache__/__init__.", f"{REPO}/runtime/__pycache__/bundle.")
    from_files = [line for line in p.stderr.splitlines()
                  if "code object from" in line and f"{REPO}/runtime/" in line
                  and not any(b in line for b in before)]
    assert from_files == []
    python = [line for line in ours if "runtime.bundle'" not in line
              and "ExtensionFileLoader" not in line]  # the cffi extension: a .so
    assert python and all("bundle.Finder object" in line for line in python)
    future = [line for line in p.stderr.splitlines() if line.startswith("import '__future__'")]
    assert len(future) == 1 and "bundle.Finder object" in future[0]
