# The C extension is built by cffi; everything else is in pyproject.toml.
from setuptools import setup

setup(cffi_modules=["runtime/native/build_native.py:ffibuilder"])
