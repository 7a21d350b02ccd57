"""runc's finalizeNamespace, shared by the init's plan and exec's: the last steps
before the user program, from closing inherited fds to the final capabilities.

Two parts, because a seccomp filter loaded without no_new_privs must come before
the user switch (it needs CAP_SYS_ADMIN) and must meet no call a profile may not
allow: `add_before` (fds, cwd as root, bounding set, stdio, umask: close_range,
openat2 and the like) always runs before any filter; `add_creds` makes only the
calls runc's init makes after its filter (setgroups, setres[ug]id, chdir,
prctl, capset).
"""

from __future__ import annotations

import os

from runtime.errors import PyruncError
from runtime.native import lib
from runtime.native.plan import Plan
from runtime.process import capabilities, user

TYPE_CHECKING = False  # typing costs ~7 ms of imports
if TYPE_CHECKING:
    from runtime.process.namespaces import Namespaces


def add_before(plan: Plan, process: dict, *, preserve_fds: int, fix_stdio: bool) -> None:
    """fds, cwd (as root), the bounding set, stdio's owner, umask."""
    plan.add(lib.OP_CLOSE_FDS, "close inherited fds", n=(3 + preserve_fds,))
    cwd = process.get("cwd") or "/"
    plan.add(lib.OP_CHDIR_TRY, f"chdir {cwd}", s=(cwd,))
    caps = capabilities.masks(process.get("capabilities") or {})
    plan.add(lib.OP_CAP_BOUNDING, "drop bounding capabilities", n=(caps["bounding"],))
    plan.add(lib.OP_KEEPCAPS, "keep capabilities across setuid", n=(1,))
    uid, _, _ = user.ids(process)
    if os.geteuid() != 0 and (process.get("user") or {}).get("additionalGids"):
        # runc's rule: an unprivileged caller sets no supplementary groups at all
        raise PyruncError("unable to start container process: unable to setup user: "
                          "cannot set any additional groups in a rootless container")
    if fix_stdio:
        plan.add(lib.OP_FIX_STDIO, f"give stdio to uid {uid}", n=(uid,))
    umask = (process.get("user") or {}).get("umask")
    if umask is not None:
        plan.add(lib.OP_UMASK, f"umask {int(umask):o}", n=(int(umask),))


def add_creds(plan: Plan, process: dict, linux: dict, ns: Namespaces) -> None:
    """The user's ids, the cwd again if root could not reach it, the capabilities."""
    cwd = process.get("cwd") or "/"
    caps = capabilities.masks(process.get("capabilities") or {})
    uid, gid, groups = user.ids(process)
    if not _setgroups_denied(linux, ns):
        plan.add(lib.OP_SETGROUPS, "setgroups", data=user.gids_bytes(groups), count=len(groups))
    plan.add(lib.OP_SETRESGID, f"setgid {gid}", n=(gid,))
    plan.add(lib.OP_SETRESUID, f"setuid {uid}", n=(uid,))
    plan.add(lib.OP_CHDIR_RETRY, f"chdir {cwd} as uid {uid}", s=(cwd,))
    plan.add(lib.OP_KEEPCAPS, "clear keep-caps", n=(0,))
    plan.add(lib.OP_CAPSET, "set capabilities",
             n=(caps["effective"], caps["permitted"], caps["inheritable"]))
    plan.add(lib.OP_CAP_AMBIENT, "set ambient capabilities", n=(caps["ambient"],))


def _setgroups_denied(linux: dict, ns: Namespaces) -> bool:
    # In a new user namespace without a gid mapping for the caller, setgroups is denied;
    # an unprivileged caller sets no groups at all (runc's RootlessEUID).
    return ("user" in ns.new and not linux.get("gidMappings")) or os.geteuid() != 0
