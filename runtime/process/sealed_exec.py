"""The final execve through the sealed exec trampoline (CVE-2019-5736, `#!/proc/self/exe`).

Until its last execve the container process is a clone of pyrunc-init, so its
/proc/self/exe is a host binary.  The plan therefore ends in two steps
(csrc/sealed_exec.c): OP_SEAL_TRAMPOLINE copies a tiny static program into a
sealed memfd before any seccomp filter is loaded, and OP_EXEC_SEALED executes
it with execveat(); the trampoline (csrc/trampoline.c) executes the user's
program.  docs/security.md explains the choices below.
"""

from __future__ import annotations

from runtime.native import lib
from runtime.native.plan import Plan
from runtime.process import capabilities, user

# Actions under which a refused execveat comes back as an error the C side can
# fall back from; any other (kill, trap, notify) must not meet our execveat.
_RETURNING = {"SCMP_ACT_ALLOW", "SCMP_ACT_LOG", "SCMP_ACT_ERRNO", "SCMP_ACT_TRACE"}


def add_seal(plan: Plan, process: dict) -> None:
    """Place before the first seccomp filter; if placed after OP_LOOKUP, a program
    whose file capabilities two execs would change is executed directly."""
    flags = lib.PYRUNC_SEAL_UNLESS_FILE_CAPS if _two_execs_differ(process) else 0
    plan.add(lib.OP_SEAL_TRAMPOLINE, "create the sealed exec trampoline", flags=flags)


def add_exec(plan: Plan, argv: list[str], env: list[str], profile: dict | None) -> None:
    """The last step: the C side fills the two leading slots (magic, path)."""
    flags = lib.PYRUNC_EXEC_NO_EXECVEAT if execveat_may_not_return(profile) else 0
    plan.add(lib.OP_EXEC_SEALED, f"exec {argv[0]}", v=(["", "", *argv], env), flags=flags)


def _two_execs_differ(process: dict) -> bool:
    """An execve of the trampoline (no file capabilities) leaves a non-root process
    with permitted = ambient.  That changes the user's execve only under
    no_new_privs, where file capabilities can't add to the permitted set: then the
    capabilities beyond the ambient set are lost.  Root's sets are recomputed from
    bounding and inheritable, the same after one exec as after two."""
    uid, _, _ = user.ids(process)
    if uid == 0 or not process.get("noNewPrivileges"):
        return False
    caps = capabilities.masks(process.get("capabilities") or {})
    return bool(caps["permitted"] & ~caps["ambient"])


def execveat_may_not_return(profile: dict | None) -> bool:
    """Could the seccomp profile kill, trap or hand to an agent an execveat()?"""
    if not profile:
        return False
    actions: set[str] = set()
    unconditional = False
    for rule in profile.get("syscalls") or []:
        if "execveat" in (rule.get("names") or []):
            actions.add(rule.get("action") or "")
            unconditional = unconditional or not rule.get("args")
    if not unconditional:
        actions.add(profile.get("defaultAction") or "SCMP_ACT_ALLOW")
    return not actions <= _RETURNING
