"""Checkpoint and restore through CRIU, as a library talks to it: criu's RPC
(`criu swrk FD` over a SOCK_SEQPACKET socketpair, criu_req/criu_resp protobuf
messages), the way runc's libcontainer does, never criu's command-line output.

    messages.py   the criu_req/criu_resp classes (Debian's pycriu rpc_pb2 + protobuf)
    swrk.py       one `criu swrk` per request: spawn, send, answer notifications, wait
    options.py    the checkpoint/restore flags as criu options (runc's mapping)
    mounts.py     bind mounts, masked paths, /dev and cgroups described to criu

Only `checkpoint` and `restore` import this package (protobuf costs ~30 ms).
"""

from __future__ import annotations

from runtime.errors import PyruncError


class CriuError(PyruncError):
    """criu could not be run, or refused or failed a request; names criu's log."""
