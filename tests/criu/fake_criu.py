"""A stand-in for `criu swrk FD` that records what it was asked (host-side tests of
the RPC pyrunc speaks, where no criu can dump).  VERSION: 3.17.1; FEATURE_CHECK:
everything; any other request is written, as protobuf text, to $FAKE_CRIU_RECORD
and refused (errno 95), as a criu that cannot dump on this kernel would."""

from __future__ import annotations

import os
import socket
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

from runtime.criu.messages import load  # noqa: E402


def main() -> int:
    rpc = load()
    sock = socket.socket(fileno=int(sys.argv[2]))
    req = rpc.criu_req()
    req.ParseFromString(sock.recv(1 << 20))
    resp = rpc.criu_resp()
    resp.type = req.type
    resp.success = True
    if req.type == rpc.VERSION:
        resp.version.major_number, resp.version.minor_number = 3, 17
        resp.version.sublevel = 1
    elif req.type == rpc.FEATURE_CHECK:
        resp.features.mem_track = resp.features.lazy_pages = True
    else:
        from google.protobuf import text_format

        with open(os.environ["FAKE_CRIU_RECORD"], "a") as f:
            f.write(text_format.MessageToString(req) + "---\n")
        resp.success = False
        resp.cr_errno = 95
        resp.cr_errmsg = "fake criu: nothing is dumped"
    sock.send(resp.SerializeToString())
    return 0


if __name__ == "__main__":
    sys.exit(main())
