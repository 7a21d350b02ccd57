"""The cffi extension: the only code that runs between clone() and execve().

`ffi` and `lib` come from the compiled module; plan.py builds the operation
list the child executes, channel.py is the parent's side of the sync socket.
"""

from runtime.native._pyrunc_native import ffi, lib  # noqa: F401
