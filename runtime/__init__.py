"""pyrunc: an OCI runtime-spec container runtime, a drop-in for runc.

Data flow: runtime.cli (one module per command: parse, then call) ->
spec (load and validate config.json) -> runtime.lifecycle (one module per
operation) -> runtime.process (the ordered plan of the container's set-up) ->
runtime.native (cffi: clone() to execve() in C).
"""

VERSION = "0.1.0"
SPEC_VERSION = "1.3.0"
