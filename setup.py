# The C extension is built by cffi; everything else is in pyproject.toml.
import os

from setuptools import setup
from setuptools.command.build_py import build_py

ARCHIVE = os.path.join("runtime", "startup", "modules.archive")


class BuildPy(build_py):
    """The package with an empty module archive: the launcher's first use fills it
    (runtime/startup), and being a file of the package, an uninstall removes it."""

    def run(self) -> None:
        super().run()
        if not self.editable_mode:
            open(os.path.join(self.build_lib, ARCHIVE), "wb").close()

    def get_outputs(self, include_bytecode: bool = True) -> list[str]:
        outputs = super().get_outputs(include_bytecode)
        if not self.editable_mode:
            outputs.append(os.path.join(self.build_lib, ARCHIVE))
        return outputs


setup(cffi_modules=["runtime/native/build_native.py:ffibuilder"], cmdclass={"build_py": BuildPy})
