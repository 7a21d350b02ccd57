import sys

from tests.bench.cli import main

try:
    sys.exit(main())
except BrokenPipeError:  # the output piped into head and the like
    sys.exit(1)
