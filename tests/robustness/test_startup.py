"""How pyrunc starts (runtime/startup): the module archive, used by the launcher and
never in the way of a module that changed, one it lacks, or an archive it cannot
read or others could write; and the first use that makes the fast launcher out of
an installer's script, only where nobody else could write it."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.support.runtime import DEFAULT_BINARY, REPO

IMPORT = """
import sys
sys.path.insert(0, {base!r})
sys.path.insert(0, {repo!r})
from runtime.startup.archive import install
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
    from runtime.startup.archive import build

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
    magic = b"pyrunc-modules-1\n"
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
            "from runtime.startup.archive import install, build\n"
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


def test_an_archive_others_can_write_is_ignored(tmp_path):
    _package(tmp_path)
    _build(tmp_path)
    (tmp_path / "pkg" / "late.py").write_text("VALUE = 'late'\n")
    os.chmod(tmp_path / "a.bundle", 0o666)
    mod = str(tmp_path / "pkg" / "mod.py")
    assert _import(tmp_path) == ["False", f"archived SourceFileLoader {mod}",
                                 "late SourceFileLoader"]


# Imported from their files on every start: they install the archive's finder.
FROM_FILES = ("/runtime/__pycache__/__init__.", "/runtime/startup/__pycache__/__init__.",
              "/runtime/startup/__pycache__/archive.")
FROM_FILES_NAMES = ("runtime", "runtime.startup", "runtime.startup.archive")


def _imports(launcher: str) -> list[str]:
    env = dict(os.environ, PYTHONVERBOSE="1")
    p = subprocess.run([launcher, "--version"], capture_output=True, text=True, env=env,
                       check=True)
    assert p.stdout.startswith("pyrunc version "), p.stdout
    return p.stderr.splitlines()


def test_the_launcher_imports_pyrunc_from_the_archive():
    """PYTHONVERBOSE names each module's loader: none of ours from a pyc file but the
    three that install the archive's finder, nor __future__ (which all of them import)
    from the standard library's directory; and no site module (python -S)."""
    lines = _imports(DEFAULT_BINARY)
    ours = [line for line in lines
            if line.startswith("import 'runtime.") or line.startswith("import 'spec")]
    assert ours, lines[-20:]
    from_files = [line for line in lines if "code object from" in line
                  and ("/runtime/" in line or "/spec/" in line)
                  and not any(f in line for f in FROM_FILES)]
    assert from_files == []
    python = [line for line in ours
              if line.split("'")[1] not in FROM_FILES_NAMES
              and "ExtensionFileLoader" not in line]  # the cffi extension: a .so
    assert python and all("archive.Finder object" in line for line in python)
    future = [line for line in lines if line.startswith("import '__future__'")]
    assert len(future) == 1 and "archive.Finder object" in future[0]
    assert not [line for line in lines if line.startswith("import 'site'")]


INSTALLER_SCRIPT = """#!{python}
# -*- coding: utf-8 -*-
import re
import sys
from runtime.startup import main
if __name__ == '__main__':
    sys.argv[0] = re.sub(r'(-script\\.pyw|\\.exe)?$', '', sys.argv[0])
    sys.exit(main())
"""
PYTHON = os.path.join(REPO, ".venv", "bin", "python3")


def _installer_script(directory) -> str:
    script = directory / "pyrunc"
    script.write_text(INSTALLER_SCRIPT.format(python=PYTHON))
    script.chmod(0o755)
    return str(script)


def test_the_first_use_makes_the_installer_script_the_fast_launcher(tmp_path):
    """As pip writes it: `#!python`, site imported; after one run `#!python -S`,
    pyrunc from the archive, the same output."""
    tmp_path.chmod(0o755)
    script = _installer_script(tmp_path)
    first = _imports(script)
    assert [line for line in first if line.startswith("import 'site'")]
    text = open(script).read()
    assert text.startswith(f"#!{PYTHON} -S\n"), text
    later = _imports(script)
    assert not [line for line in later if line.startswith("import 'site'")]
    assert [line for line in later if line.startswith("import 'runtime.cli'")
            and "archive.Finder object" in line]
    assert sorted(os.listdir(tmp_path)) == ["pyrunc"]  # no temporary file left


def test_no_first_use_writes_where_others_could(tmp_path):
    """A directory others may write, another script or a shebang with arguments:
    the script runs, slowly, and is left as it is."""
    tmp_path.chmod(0o777)
    script = _installer_script(tmp_path)
    text = open(script).read()
    _imports(script)
    assert open(script).read() == text
    tmp_path.chmod(0o755)
    with_args = text.replace(f"#!{PYTHON}\n", f"#!{PYTHON} -E\n")
    open(script, "w").write(with_args)
    _imports(script)
    assert open(script).read() == with_args
