"""The container init's plan: every step from clone() to execve(), in runc's order.

Reference: runc's nsexec.c (namespaces), rootfs_linux.go (prepareRootfs,
finalizeRootfs) and standard_init_linux.go (Init).  Sync points, where the
child waits for the runtime:
  "cgroups"  the child has joined what cgroups it can by itself (cgroup_join.py);
             the runtime puts it in the others and writes id mappings;
  "hooks"    prestart/createRuntime/createContainer hooks (mounts done, before pivot);
  "ready"    cgroup limits, rlimits, oom_score_adj (after the rootfs, before credentials);
  "waiting"  the runtime records the container as created and exits.
"""

from __future__ import annotations

import os

from runtime.native import lib
from runtime.native.plan import Plan
from runtime.process import (
    devices,
    finalize,
    keyring,
    lsm,
    mount_options,
    mounts,
    sealed_exec,
    user,
)
from runtime.process.namespaces import KINDS, Namespaces


class InitOptions:
    """What the lifecycle knows beyond config.json."""

    def __init__(self, *, bundle: str, rootfs: str, listener_fd: int, no_pivot: bool = False,
                 preserve_fds: int = 0, has_hooks: bool = False, seccomp: bytes | None = None,
                 seccomp_flags: int = 0, seccomp_notify: bool = False,
                 cgroup_mount=None, console_fd: int = -1, console_relayed: bool = False,
                 extra_env: list[str] | None = None, fix_stdio: bool = True,
                 keyring_of: str = "") -> None:
        self.bundle = bundle
        self.rootfs = rootfs
        self.listener_fd = listener_fd
        self.no_pivot = no_pivot
        self.preserve_fds = preserve_fds
        self.has_hooks = has_hooks
        self.seccomp = seccomp
        self.seccomp_flags = seccomp_flags
        self.seccomp_notify = seccomp_notify
        self.cgroup_mount = cgroup_mount
        self.idmap = None  # idmap.IdmapTrees: idmapped mounts' trees (create.py closes them)
        self.cgroup_join = None  # cgroup_join.CgroupJoin: cgroups it joins by itself
        # Bind sources opened here for an init in a new user namespace (create.py
        # closes them once it is spawned); None: mounted by path.
        self.source_fds: list[int] | None = None
        self.console_fd = console_fd      # console socket: process.terminal's pty goes there
        self.console_relayed = console_relayed  # ... to pyrunc's own foreground relay
        self.extra_env = extra_env or []  # appended to process.env (LISTEN_FDS, LISTEN_PID)
        # False when stdio is the caller's own (foreground, no terminal): never chown it.
        self.fix_stdio = fix_stdio
        # The container id whose session keyring the init creates; "" keeps the
        # caller's (--no-new-keyring).
        self.keyring_of = keyring_of


def build(config: dict, ns: Namespaces, joined: list[tuple[str, int, str]],
          opts: InitOptions) -> Plan:
    plan = Plan()
    # A time namespace's offsets can only be set before a process is in it: the
    # init unshares it, the runtime writes the offsets at the "cgroups" sync,
    # then the init enters it.  clone() would enter it at once.
    # Likewise a cgroup namespace is entered only once the runtime has put the
    # init in its cgroups, so that those are its root (as runc's nsexec).
    plan.clone_flags = ns.clone_flags & ~(lib.CLONE_NEWTIME | lib.CLONE_NEWCGROUP)
    linux = config.get("linux") or {}
    process = config["process"]

    if joined:
        # Processes already in the namespaces joined must not reach us through
        # /proc until execve (runc's nsexec does the same).
        plan.add(lib.OP_SET_DUMPABLE, "make the process non-dumpable", n=(0,), pre=True)
    for kind, fd, path in joined:
        plan.add(lib.OP_SETNS, f"join {kind} namespace {path}", fd=fd, flags=KINDS[kind][0],
                 s=(path,), pre=True)

    if "time" in ns.new:
        plan.add(lib.OP_UNSHARE, "unshare the time namespace", flags=lib.CLONE_NEWTIME)
    if opts.cgroup_join is not None:
        opts.cgroup_join.add_to(plan)
    plan.sync("cgroups")
    if "time" in ns.new:
        # The offsets are written: enter the namespace now.  Before Linux 6.3
        # execve does not, and the container would keep the host's clocks.
        plan.add(lib.OP_SETNS_PATH, "enter the new time namespace", flags=lib.CLONE_NEWTIME,
                 s=("/proc/self/ns/time_for_children",))
    if "user" in ns.new:
        plan.add(lib.OP_SETRESGID, "become root in the user namespace (gid)", n=(0,))
        plan.add(lib.OP_SETRESUID, "become root in the user namespace (uid)", n=(0,))
    if "cgroup" in ns.new:
        plan.add(lib.OP_UNSHARE, "unshare the cgroup namespace", flags=lib.CLONE_NEWCGROUP)
    plan.add(lib.OP_SETSID, "setsid")
    if opts.keyring_of:
        keyring.add_init(plan, opts.keyring_of, ns.has("user"))
    if "network" in ns.new:
        plan.add(lib.OP_LOOPBACK_UP, "bring up the loopback interface")

    if ns.has("mount"):
        _prepare_rootfs(plan, config, ns, opts)
    else:
        if opts.has_hooks:
            plan.sync("hooks")
        # No mount namespace: the rootfs is still the container's root, as runc's
        # chroot() there.  Unlike runc, nothing is mounted: the mounts would be the
        # host's, and stay there after the container.
        plan.add(lib.OP_CHROOT, "chroot to the rootfs (no mount namespace)", flags=1,
                 s=(opts.rootfs,))
    if opts.console_fd >= 0:
        from runtime.process import terminal  # as sched and sysctl: only when used

        terminal.add_console(plan, opts.console_fd, process, mount_console=ns.has("mount"),
                             relayed=opts.console_relayed)

    if ns.has("mount"):
        _finalize_rootfs(plan, config)

    if config.get("hostname"):
        plan.add(lib.OP_SETHOSTNAME, "sethostname", s=(config["hostname"],))
    if config.get("domainname"):
        plan.add(lib.OP_SETDOMAINNAME, "setdomainname", s=(config["domainname"],))
    _confine(plan, process, linux)

    plan.sync("ready")
    if linux.get("memoryPolicy"):
        from runtime.process import mempolicy

        mempolicy.add(plan, linux["memoryPolicy"])

    label = lsm.selinux_exec_write(process.get("selinuxLabel") or "")
    if label:
        plan.add(lib.OP_WRITE_FILE, "set the SELinux exec label", s=label)
    nnp = bool(process.get("noNewPrivileges"))
    # After the filter the init makes no call but the exec (runc: "as close to
    # execve as possible"), so that any profile runc accepts starts the container.
    # Everything newer (close_range, openat2, faccessat2, the start socket) comes
    # first.  Without no_new_privs loading the filter needs CAP_SYS_ADMIN: then it
    # comes after the start, before the user switch, and only the calls runc's init
    # makes there follow it (setgroups, setres[ug]id, chdir, prctl, capset).  A
    # notify filter is loaded before "waiting": its fd goes to `create`.
    notify = opts.seccomp is not None and opts.seccomp_notify
    late_creds = opts.seccomp is not None and not nnp and not notify
    argv = list(process["args"])
    env = user.environment({**process, "env": [*(process.get("env") or []), *opts.extra_env]},
                           opts.rootfs)
    finalize.add_before(plan, process, preserve_fds=opts.preserve_fds, fix_stdio=opts.fix_stdio)
    if notify and not nnp:
        sealed_exec.add_seal(plan, process)
        _add_seccomp(plan, opts)
    if not late_creds:
        finalize.add_creds(plan, process, linux, ns)
    plan.add(lib.OP_LOOKUP, f"look up {argv[0]}", v=(argv, env))
    if not (notify and not nnp):
        # Before any filter (memfd_create and fcntl need not be allowed); after the
        # look-up, which it checks for file capabilities.
        sealed_exec.add_seal(plan, process)
    if notify and nnp:
        _add_seccomp(plan, opts)  # the notify fd must reach the runtime before it exits
    plan.add(lib.OP_CLEAR_PDEATHSIG, "clear the parent death signal")
    if not joined and os.geteuid() == 0:
        # Until its execve the init is a clone of pyrunc-init: a process `exec`ed into
        # the created container must not open its /proc/<pid>/exe, a host binary
        # (CVE-2019-5736).  Joined namespaces made it non-dumpable in pyrunc-init already.
        # An unprivileged caller leaves it dumpable, as runc does: its own `exec` must
        # open the init's namespaces, and the container's root is that user, who may
        # write no interpreter it could not write anyway (docs/rootless.md).
        plan.add(lib.OP_SET_DUMPABLE, "make the process non-dumpable until its exec", n=(0,))
    plan.sync("waiting")
    plan.add(lib.OP_WAIT_START, "wait for start", fd=opts.listener_fd)
    if opts.seccomp is not None and not notify:
        _add_seccomp(plan, opts)
    if late_creds:
        finalize.add_creds(plan, process, linux, ns)
    sealed_exec.add_exec(plan, argv, env, linux.get("seccomp"))
    return plan


def _confine(plan: Plan, process: dict, linux: dict) -> None:
    """runc's steps between the hostname and the "ready" sync, in its order."""
    profile = lsm.apparmor_exec_write(process.get("apparmorProfile") or "")
    if profile:
        plan.add(lib.OP_WRITE_FILE, "apply the AppArmor profile", s=profile)
    if linux.get("sysctl"):
        from runtime.process import sysctl

        for key, value in linux["sysctl"].items():
            plan.add(lib.OP_WRITE_FILE, f"write sysctl {key}", s=(sysctl.proc_path(key), value))
    for path in linux.get("readonlyPaths") or []:
        plan.add(lib.OP_READONLY_PATH, f"make {path} read-only", s=(path,))
    mask_data = lsm.mount_data("", lsm.mount_label(linux)) or None
    for path in linux.get("maskedPaths") or []:
        plan.add(lib.OP_MASK_PATH, f"mask {path}", s=(path, mask_data))
    if process.get("noNewPrivileges"):
        plan.add(lib.OP_NO_NEW_PRIVS, "set no_new_privs")
    if "scheduler" in process or "ioPriority" in process:
        from runtime.process import sched

        sched.add_process(plan, process)
    if "personality" in linux:
        plan.add(lib.OP_PERSONALITY, "set personality", n=(_personality(linux["personality"]),))


def _prepare_rootfs(plan: Plan, config: dict, ns: Namespaces, opts: InitOptions) -> None:
    linux = config.get("linux") or {}
    propagation = linux.get("rootfsPropagation") or ""
    from runtime.process.mount_options import PROPAGATION

    # As runc's prepareRoot: the configured propagation (rslave by default) for
    # the whole tree, then the mount holding the rootfs made private (slave for
    # a slave propagation), so that the rootfs bind does not propagate and
    # pivot_root accepts it even under a shared /.
    root_flag = PROPAGATION.get(propagation, lib.MS_SLAVE | lib.MS_REC)
    plan.add(lib.OP_MOUNT, "set propagation of /", flags=root_flag, s=(None, "/", None, None))
    if "mount" in ns.new:  # a joined mount namespace has mounts we can't see from here
        parent_flag = lib.MS_SLAVE if root_flag & lib.MS_SLAVE else lib.MS_PRIVATE
        holder = mount_point_of(opts.rootfs)
        plan.add(lib.OP_MOUNT, f"set propagation of {holder}, which holds the rootfs",
                 flags=parent_flag, s=(None, holder, None, None))
    plan.add(lib.OP_MOUNT, "bind mount the rootfs on itself", flags=lib.MS_BIND | lib.MS_REC,
             s=(opts.rootfs, opts.rootfs, "bind", None))
    plan.add(lib.OP_OPEN_ROOT, "open the rootfs", s=(opts.rootfs,))
    label = lsm.mount_label(linux)
    mount_list = [lsm.labelled_mount(m, label)
                  for m in config.get("mounts") or []]
    if "user" in ns.new and opts.source_fds is not None:
        mount_list = mounts.open_bind_sources(mount_list, opts.bundle, root_flag,
                                              opts.source_fds)
    for m in mount_list:
        mounts.check_ordinary_directory(opts.rootfs, m)
        mounts.add_mount(plan, m, opts.bundle, opts.cgroup_mount, opts.idmap)
    dev_bound = any(m.get("destination", "").rstrip("/") == "/dev" and mounts.is_bind(m)
                    for m in mount_list)
    if not dev_bound:
        plan.add(lib.OP_MKDIR_IN_ROOT, "create /dev", s=("/dev",), n=(0o755,))
        devices.add_devices(plan, config, _no_mknod(ns))
        devices.add_symlinks(plan)
    cwd = config["process"].get("cwd") or "/"
    plan.add(lib.OP_MKDIR_IN_ROOT, f"create cwd {cwd}", s=(cwd,), n=(0o755,))
    if opts.has_hooks:
        plan.sync("hooks")
    if opts.no_pivot:
        if "mount" in ns.new:   # a copy of ours: what it holds is known from here
            for mp in full_proc_and_sysfs_mounts(opts.rootfs):
                plan.add(lib.OP_HIDE_MOUNT, f"detach the host's {mp}", s=(mp,))
        plan.add(lib.OP_CHROOT, "move the rootfs to / and chroot", s=(opts.rootfs,))
    else:
        plan.add(lib.OP_PIVOT_ROOT, "pivot_root", s=(opts.rootfs,))
    plan.add(lib.OP_REOPEN_DEV_NULL, "reopen /dev/null stdio inside the container")
    # Private and slave were applied before the pivot; shared (a new peer group
    # for the new /) and unbindable only now, so that they can't reach the host.
    if propagation and not PROPAGATION[propagation] & (lib.MS_PRIVATE | lib.MS_SLAVE):
        plan.add(lib.OP_MOUNT, "apply rootfsPropagation", flags=PROPAGATION[propagation],
                 s=(None, "/", None, None))


def _finalize_rootfs(plan: Plan, config: dict) -> None:
    for m in config.get("mounts") or []:
        if (mounts.delays_readonly(m)
                and mount_options.parse(m.get("options") or [])[0] & lib.MS_RDONLY):
            dest = os.path.normpath("/" + m["destination"].lstrip("/"))
            plan.add(lib.OP_REMOUNT, f"remount {dest} read-only", flags=lib.MS_RDONLY,
                     s=(None, dest))
    if (config.get("root") or {}).get("readonly"):
        plan.add(lib.OP_REMOUNT, "remount the rootfs read-only",
                 flags=lib.MS_BIND | lib.MS_RDONLY, s=(None, "/"))
    plan.add(lib.OP_UMASK, "umask 0022", n=(0o022,))


def _add_seccomp(plan: Plan, opts: InitOptions) -> None:
    assert opts.seccomp is not None
    plan.add(lib.OP_SECCOMP, "load the seccomp filter", flags=opts.seccomp_flags,
             data=opts.seccomp, count=len(opts.seccomp) // 8)


def mount_point_of(path: str) -> str:
    """The mount point holding `path` (the longest one that is a prefix of it)."""
    best = "/"
    for fields in _own_mounts():
        mp = _unescape(fields[4])
        if (path == mp or path.startswith(mp.rstrip("/") + "/")) and len(mp) > len(best):
            best = mp
    return best


def full_proc_and_sysfs_mounts(rootfs: str) -> list[str]:
    """The mounts of a whole procfs or sysfs outside the rootfs (runc's msMoveRoot)."""
    out = []
    for fields in _own_mounts():
        try:
            fstype = fields[fields.index("-") + 1]
        except (ValueError, IndexError):
            continue
        mp = _unescape(fields[4])
        if fields[3] == "/" and fstype in ("proc", "sysfs") and not mp.startswith(rootfs):
            out.append(mp)
    return out


def _own_mounts() -> list[list[str]]:
    """The fields of each line of this process's mountinfo (none if unreadable)."""
    try:
        with open("/proc/self/mountinfo") as f:
            lines = f.read().splitlines()
    except OSError:
        return []
    return [fields for fields in (line.split(" ") for line in lines) if len(fields) >= 5]


def _unescape(field: str) -> str:
    """mountinfo writes space, tab, newline and backslash as octal escapes."""
    for code in ("\\040", "\\011", "\\012", "\\134"):
        field = field.replace(code, chr(int(code[1:], 8)))
    return field


def _personality(p: dict) -> int:
    domains = {"LINUX": lib.PER_LINUX, "LINUX32": lib.PER_LINUX32}
    return domains.get(p.get("domain", "LINUX"), lib.PER_LINUX)


def _no_mknod(ns: Namespaces) -> bool:
    """mknod is refused in a user namespace, the container's or one the runtime itself
    runs in (rootless podman's): devices are then bind-mounted, as runc does."""
    if ns.has("user"):
        return True
    from runtime import rootless

    return rootless.in_user_namespace()
