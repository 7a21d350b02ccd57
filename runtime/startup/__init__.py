"""How a pyrunc command starts: the launcher, the module archive, the first use.

Every pyrunc command is a new interpreter, so its start-up is a large share of a
short command's time.  The `pyrunc` an installer puts on PATH runs main():

- On its first use (the script as pip, pipx or uv wrote it: `#!<python>`, the site
  module run), first_use.py writes the module archive (archive.py) next to this
  package and rewrites the script into the fast launcher: `#!<python> -S`
  (site's .pth processing costs ~3-4 ms per start), with the import path that
  site computed written into it.
- From then on (`python -S`), main() serves pyrunc's modules from the archive and
  raises the cycle collector's threshold: a command's imports allocate tens of
  thousands of objects that live until it exits, and the default threshold (700)
  would walk them again and again (~0.7 ms of a run).

Both writes happen only where the user running pyrunc already controls the code
(docs/security.md).  Kept small: this is imported from its file on every start.
"""

import gc
import sys


def main() -> None:
    """The `pyrunc` command."""
    gc.set_threshold(50000)
    from runtime.startup.archive import install

    if not sys.flags.no_site:  # the installer's script: make the fast one
        from runtime.startup.first_use import settle

        settle(sys.argv[0])
    install()
    from runtime.cli import entry

    entry()
