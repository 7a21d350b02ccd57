import gc

gc.set_threshold(50000)  # as the launcher does: see runtime/startup

from runtime.startup.archive import install  # noqa: E402

install()  # pyrunc's modules from the archive, when the launcher's first use wrote one
from runtime.cli import entry  # noqa: E402

entry()
