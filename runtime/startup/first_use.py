"""The launcher's first use: the module archive and the fast `pyrunc` script, once.

Installers write `pyrunc` as `#!<python>` and a few lines that call main(), and
drop anything after `#!python` in a wheel's scripts (pip's and installer's
shebang rewriting keep only the interpreter), so a `-S` cannot come from the
package.  The first run of that script, which pays for the site module, writes
what every later run needs:

1. the module archive, next to runtime/startup/archive.py;
2. the same script as `#!<python> -S`, which sets the import path site had found
   (the entries a `python -S` lacks) and calls main().

Both are code that root may run.  They are written only where the user running
pyrunc owns the file and its directory and nobody else may write (as after an
install by that user, root for a system one), as new files renamed over the old
ones; anything unexpected (another script, a shebang with arguments or for a
long path, a read-only or shared directory) leaves both as they are.  A failed
write costs nothing but the speed.  A reinstall or upgrade writes the installer's
script again, and the next run settles again.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys

from runtime.startup.archive import ARCHIVE, build

CALL = "from runtime.startup import main"  # what an installer's script of ours runs


def settle(script: str) -> bool:
    """Write the archive and the fast launcher for the installer's `script`; True if
    both were written."""
    try:
        path = os.path.realpath(script)
        interpreter = _installer_interpreter(path)
        if interpreter is None or not (_ours(path) and _ours(os.path.dirname(path))
                                       and _ours(os.path.dirname(ARCHIVE))):
            return False
        build(ARCHIVE)
        _replace(path, _launcher(interpreter, _site_paths(interpreter)))
        return True
    except (OSError, ValueError, subprocess.SubprocessError):
        return False


def _installer_interpreter(path: str) -> str | None:
    """The interpreter of an installer's script calling main(), or None."""
    with open(path, "rb") as f:
        text = f.read(4096).decode("utf-8", "replace")
    first, _, body = text.partition("\n")
    interpreter = first[2:].strip()
    if not first.startswith("#!/") or " " in interpreter or CALL not in body:
        return None
    return interpreter


def _ours(path: str) -> bool:
    """Owned by the user running pyrunc, writable by nobody else."""
    st = os.stat(path)
    return st.st_uid == os.geteuid() and not st.st_mode & 0o022


def _site_paths(interpreter: str) -> list[str]:
    """The entries of this run's import path (site's) that `python -S` would lack,
    pyrunc's own directory among them."""
    out = subprocess.run([interpreter, "-S", "-c", "import sys; print(repr(sys.path))"],
                         capture_output=True, text=True, check=True, timeout=30).stdout
    bare = set(ast.literal_eval(out))
    base = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    paths = [p for p in sys.path[1:] if p and p not in bare]
    if base not in paths and base not in bare:
        paths.insert(0, base)
    return list(dict.fromkeys(paths))


def _launcher(interpreter: str, paths: list[str]) -> str:
    return (f"#!{interpreter} -S\n"
            "# pyrunc's launcher, written by runtime/startup/first_use.py at the first run of\n"
            "# the installer's script: -S skips the site module (~3-4 ms of every start);\n"
            "# these are the import paths site found.\n"
            "import sys\n"
            "del sys.path[0]  # this script's directory\n"
            f"sys.path += {paths!r}\n"
            f"{CALL}\n"
            "main()\n")


def _replace(path: str, text: str) -> None:
    mode = os.stat(path).st_mode & 0o7777
    tmp = os.path.join(os.path.dirname(path), f".{os.path.basename(path)}.{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
    try:
        os.write(fd, text.encode())
        os.fchmod(fd, mode)
        os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
