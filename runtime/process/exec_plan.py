"""The plan of a process joining a running container (`exec`), in runc's order.

Reference: runc's nsexec.c (non-dumpable, join the init's namespaces user
first, fork into the pid namespace, setsid) and setns_init_linux.go
(terminal, no_new_privs, labels, seccomp around finalizeNamespace).  One sync
point, "cgroups": the process has joined what cgroups it can by itself
(cgroup_join.py), the runtime puts it in the others and sets its rlimits
before the process touches anything in the container.

The stage-1 process (a fork of the runtime) makes itself non-dumpable, then
setns()es into /proc/<init>/ns/* (opened by the runtime, pid-reuse safe) and
clones the exec'd process with CLONE_PARENT: it is the runtime's child, in
the container's pid namespace.  Its cwd is resolved inside the container's
root (no symlink or /proc/self/fd/N leads out: CVE-2024-21626).
"""

from __future__ import annotations

from runtime.native import lib
from runtime.native.plan import Plan
from runtime.process import finalize, keyring, lsm, sealed_exec, user
from runtime.process.namespaces import KINDS, Namespaces


class ExecOptions:
    """What the lifecycle knows beyond the process spec and the container's config."""

    def __init__(self, *, preserve_fds: int = 0, console_fd: int = -1, seccomp=None,
                 chown_stdio: bool = True, home: str = "/", relayed: bool = False,
                 keyring_of: str = "") -> None:
        self.preserve_fds = preserve_fds
        self.cgroup_join = None         # cgroup_join.CgroupJoin: cgroups it joins by itself
        self.console_fd = console_fd
        self.relayed = relayed          # the pty goes to pyrunc's own foreground relay
        self.seccomp = seccomp          # runtime.process.seccomp.Filter or None
        self.chown_stdio = chown_stdio
        self.home = home                # the user's home in the container's /etc/passwd
        self.keyring_of = keyring_of    # container id: join its session keyring ("" : don't)


def build(process: dict, config: dict, joined: list[tuple[str, int, str]],
          opts: ExecOptions) -> Plan:
    """`joined`: (kind, fd, path) of the init's namespaces, in joining order."""
    linux = config.get("linux") or {}
    ns = Namespaces(config)
    plan = Plan()
    plan.add(lib.OP_SET_DUMPABLE, "make the process non-dumpable", n=(0,), pre=True)
    for kind, fd, path in joined:
        plan.add(lib.OP_SETNS, f"join the container's {kind} namespace", fd=fd,
                 flags=KINDS[kind][0], s=(path,), pre=True)

    if opts.cgroup_join is not None:
        opts.cgroup_join.add_to(plan)
    plan.sync("cgroups")
    plan.add(lib.OP_SETSID, "setsid")
    if opts.keyring_of:
        keyring.add_exec(plan, opts.keyring_of)
    # After setns(mnt) our root is the container's: open it to resolve paths in.
    plan.add(lib.OP_OPEN_ROOT, "open the container's root", s=("/",))
    if opts.console_fd >= 0:
        from runtime.process import terminal

        terminal.add_console(plan, opts.console_fd, process, mount_console=False,
                             relayed=opts.relayed)
    nnp = bool(process.get("noNewPrivileges"))
    if nnp:
        plan.add(lib.OP_NO_NEW_PRIVS, "set no_new_privs")
    label = lsm.selinux_exec_write(process.get("selinuxLabel") or "")
    if label:
        plan.add(lib.OP_WRITE_FILE, "set the SELinux exec label", s=label)
    # As the init's plan: after the filter, no call but the exec; without
    # no_new_privs the filter comes before the user switch (it needs
    # CAP_SYS_ADMIN), and only the switch's calls follow it (finalize.py).
    late_creds = opts.seccomp is not None and not nnp and not opts.seccomp.notify
    finalize.add_before(plan, process, preserve_fds=opts.preserve_fds,
                        fix_stdio=opts.chown_stdio)
    early_filter = opts.seccomp is not None and not nnp and opts.seccomp.notify
    if early_filter:
        sealed_exec.add_seal(plan, process)
        _add_seccomp(plan, opts.seccomp)
    if not late_creds:
        finalize.add_creds(plan, process, linux, ns)
    profile = lsm.apparmor_exec_write(process.get("apparmorProfile") or "")
    if profile:
        plan.add(lib.OP_WRITE_FILE, "apply the AppArmor profile", s=profile)
    if "scheduler" in process or "ioPriority" in process:
        from runtime.process import sched  # as terminal: only when used

        sched.add_process(plan, process)
    argv = list(process["args"])
    env = environment(process, opts.home)
    plan.add(lib.OP_LOOKUP, f"look up {argv[0]}", v=(argv, env))
    if not early_filter:
        sealed_exec.add_seal(plan, process)
    plan.add(lib.OP_CLEAR_PDEATHSIG, "clear the parent death signal")
    if opts.seccomp is not None and not early_filter:
        _add_seccomp(plan, opts.seccomp)
    if late_creds:
        finalize.add_creds(plan, process, linux, ns)
    sealed_exec.add_exec(plan, argv, env, linux.get("seccomp"))
    return plan


def environment(process: dict, home: str) -> list[str]:
    """process.env checked and de-duplicated as runc does; HOME=`home` when unset."""
    env = list(process.get("env") or [])
    if not any(kv.startswith("HOME=") and len(kv) > 5 for kv in env):
        env.append(f"HOME={home}")
    return user.environment({**process, "env": env}, "/")


def home_in_root(root_fd: int, uid: int) -> str:
    """HOME of `uid` from <root>/etc/passwd, "/" if absent, as runc; every component
    opened below root_fd without following symlinks, so nothing leads to the host."""
    import os

    fds = []
    try:
        fds.append(os.open("etc", os.O_PATH | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC,
                           dir_fd=root_fd))
        fds.append(os.open("passwd", os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC,
                           dir_fd=fds[0]))
        data = os.read(fds[1], 1 << 20).decode(errors="replace")
    except OSError:
        return "/"
    finally:
        for fd in fds:
            os.close(fd)
    for line in data.splitlines():
        fields = line.split(":")
        if len(fields) >= 6 and fields[2] == str(uid):
            return fields[5] or "/"
    return "/"


def _add_seccomp(plan: Plan, f) -> None:
    plan.add(lib.OP_SECCOMP, "load the seccomp filter", flags=f.flags, data=f.bpf,
             count=f.instructions)
