"""The checks, one module per area of the runtime-spec.

AREAS fixes the order areas are listed and run in; a module not named here runs after them.
"""

AREAS = (
    "lifecycle",
    "state",
    "process",
    "user",
    "capabilities",
    "rlimits",
    "root",
    "mounts",
    "mount_options",
    "namespaces",
    "devices",
    "cgroups",
    "sysctl",
    "seccomp",
    "paths",
    "hooks",
    "terminal",
)
