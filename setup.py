# The C extension is built by cffi; everything else is in pyproject.toml.
import os
import runpy

from setuptools import setup
from setuptools.command.build_ext import build_ext
from setuptools.command.build_py import build_py

ARCHIVE = os.path.join("runtime", "startup", "modules.archive")
NATIVE = os.path.join("runtime", "native")


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


class BuildExt(build_ext):
    """The C extension (cffi wraps this class), then pyrunc-init beside it: the static
    program that clones container processes, built from the same C."""

    def run(self) -> None:
        super().run()
        build = runpy.run_path(os.path.join(NATIVE, "build_native.py"))
        build["build_init"](self._init_path())

    def _init_path(self) -> str:
        return os.path.join(NATIVE if self.inplace else os.path.join(self.build_lib, NATIVE),
                            "pyrunc-init")

    def get_outputs(self) -> list[str]:
        return [*super().get_outputs(), self._init_path()]


setup(cffi_modules=["runtime/native/build_native.py:ffibuilder"],
      cmdclass={"build_py": BuildPy, "build_ext": BuildExt})
