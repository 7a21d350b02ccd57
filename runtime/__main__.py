import gc

gc.set_threshold(50000)  # as the launcher tests/setup.sh makes: see there

from runtime.bundle import install  # noqa: E402

install()  # pyrunc's modules from the archive, when tests/setup.sh has written one
from runtime.cli import entry  # noqa: E402

entry()
