"""The cffi extension: the only code that runs between clone() and execve().

`ffi` and `lib` come from the compiled module; plan.py builds the operation
list the child executes, channel.py runs it through INIT (pyrunc-init, built
beside the extension: csrc/init_helper.c) and is the parent's side of the sync
socket.
"""

import os

from runtime.native import _pyrunc_native
from runtime.native._pyrunc_native import ffi, lib  # noqa: F401

INIT = os.path.join(os.path.dirname(_pyrunc_native.__file__), "pyrunc-init")
