"""The OCI ``unified`` map: raw cgroup v2 files, written as given.

The spec asks for an error when a key names a controller that is missing or
cannot be enabled; keys of core files (cgroup.*) and of files that already exist
(e.g. the pressure files) need no controller.
"""

from __future__ import annotations

import os

from runtime.cgroups import CgroupError, files
from runtime.cgroups.files import q


def controllers_of(unified: dict) -> set[str]:
    return {key.split(".", 1)[0] for key in unified} - {"cgroup"}


def check(path: str, unified: dict, available: set[str]) -> None:
    for key in unified:
        controller = key.split(".", 1)[0]
        if controller == "cgroup" or controller in available:
            continue
        if path and os.path.exists(os.path.join(path, key)):
            continue
        raise CgroupError(f"unified resource {q(key)} can't be set: controller "
                          f"{q(controller)} not available")


def set(path: str, unified: dict) -> None:  # noqa: A001
    for key, value in unified.items():
        try:
            files.write_by_line(path, key, value)
        except CgroupError as e:
            raise CgroupError(f"unable to set unified resource {q(key)}: {e}") from None
