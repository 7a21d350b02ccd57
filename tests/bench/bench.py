"""The bench's former entry point, kept: `python -m tests.bench.bench` or
`python tests/bench/bench.py` run `python -m tests.bench` (see tests/bench/cli.py)."""

from __future__ import annotations

import os
import sys

if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    from tests.bench.cli import main

    try:
        sys.exit(main())
    except BrokenPipeError:  # the output piped into head and the like
        sys.exit(1)
