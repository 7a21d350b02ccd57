"""criu's RPC messages: the rpc_pb2 module that criu's own Python side (pycriu)
ships, over the `protobuf` package.

pyrunc runs from a venv that does not see the system's site-packages, so
pycriu's rpc_pb2.py is loaded by path from where distributions install it
(Debian's criu package: /usr/lib/python3/dist-packages/pycriu), without
pycriu/__init__ (which builds every image message class: ~50 ms).  protobuf
comes from the venv (the `criu` extra), else from the system's python3-protobuf.
"""

from __future__ import annotations

import os
import sys

from runtime.criu import CriuError

# Where pycriu is installed by distributions (Debian/Ubuntu, Fedora/Arch, a source
# build's `make install`).
_SYSTEM_SITES = (
    "/usr/lib/python3/dist-packages",
    f"/usr/lib/python3.{sys.version_info[1]}/site-packages",
    f"/usr/lib64/python3.{sys.version_info[1]}/site-packages",
    f"/usr/local/lib/python3.{sys.version_info[1]}/dist-packages",
    f"/usr/local/lib/python3.{sys.version_info[1]}/site-packages",
)
_MODULE = "pyrunc_criu_rpc_pb2"


def rpc_pb2_path() -> str:
    """The rpc_pb2.py of an installed pycriu, or "" (no import: `features` asks)."""
    from importlib.util import find_spec

    try:
        spec = find_spec("pycriu")
    except (ImportError, ValueError):
        spec = None
    dirs = list(spec.submodule_search_locations or []) if spec else []
    dirs += [os.path.join(site, "pycriu") for site in _SYSTEM_SITES]
    for d in dirs:
        path = os.path.join(d, "rpc_pb2.py")
        if os.path.isfile(path):
            return path
    return ""


def has_protobuf() -> bool:
    from importlib.util import find_spec

    if find_spec("google") is not None and find_spec("google.protobuf") is not None:
        return True
    return any(os.path.isdir(os.path.join(s, "google", "protobuf")) for s in _SYSTEM_SITES)


def load():
    """The rpc_pb2 module (criu_req, criu_resp, criu_opts, the enums)."""
    mod = sys.modules.get(_MODULE)
    if mod is not None:
        return mod
    path = rpc_pb2_path()
    if not path:
        raise CriuError("criu's RPC messages not found: install criu's Python side "
                        "(pycriu, in Debian's criu package)")
    _import_protobuf()
    from importlib.util import module_from_spec, spec_from_file_location

    spec = spec_from_file_location(_MODULE, path)
    assert spec is not None and spec.loader is not None
    mod = module_from_spec(spec)
    try:
        spec.loader.exec_module(mod)
    except Exception as e:  # noqa: BLE001 - a protobuf that refuses this gencode
        raise CriuError(f"load criu's RPC messages from {path}: {type(e).__name__}: {e}") \
            from None
    sys.modules[_MODULE] = mod
    return mod


def _import_protobuf() -> None:
    try:
        import google.protobuf  # noqa: F401
        return
    except ImportError:
        pass
    # The system's python3-protobuf (a dependency of Debian's criu), last in the
    # path so that nothing of the venv is shadowed.
    for site in _SYSTEM_SITES:
        if os.path.isdir(os.path.join(site, "google", "protobuf")):
            sys.path.append(site)
            sys.modules.pop("google", None)
            try:
                import google.protobuf  # noqa: F401
                return
            except ImportError:
                sys.path.remove(site)
    raise CriuError("the Python package protobuf is missing: pip install 'pyrunc[criu]' "
                    "(or the system's python3-protobuf)")
