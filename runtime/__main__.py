import gc

gc.set_threshold(50000)  # as the launcher tests/setup.sh makes: see there

from runtime.cli import entry  # noqa: E402

entry()
