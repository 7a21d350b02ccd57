"""The container init's plan: every step from clone() to execve(), in runc's order.

Reference: runc's nsexec.c (namespaces), rootfs_linux.go (prepareRootfs,
finalizeRootfs) and standard_init_linux.go (Init).  Sync points, where the
child waits for the runtime:
  "cgroups"  the runtime puts the pid in its cgroups and writes id mappings;
  "hooks"    prestart/createRuntime/createContainer hooks (mounts done, before pivot);
  "ready"    cgroup limits, rlimits, oom_score_adj (after the rootfs, before credentials);
  "waiting"  the runtime records the container as created and exits.
"""

from __future__ import annotations

import os

from runtime.native import lib
from runtime.native.plan import Plan
from runtime.process import capabilities, devices, mounts
from runtime.process.namespaces import KINDS, Namespaces
from runtime.process.user import environment


class InitOptions:
    """What the lifecycle knows beyond config.json."""

    def __init__(self, *, bundle: str, rootfs: str, listener_fd: int, no_pivot: bool = False,
                 preserve_fds: int = 0, has_hooks: bool = False, seccomp: bytes | None = None,
                 seccomp_flags: int = 0, seccomp_notify: bool = False,
                 cgroup_mount=None) -> None:
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


def build(config: dict, ns: Namespaces, joined: list[tuple[str, int, str]],
          opts: InitOptions) -> Plan:
    plan = Plan()
    plan.clone_flags = ns.clone_flags
    linux = config.get("linux") or {}
    process = config["process"]

    for kind, fd, path in joined:
        plan.add(lib.OP_SETNS, f"join {kind} namespace {path}", fd=fd, flags=KINDS[kind][0],
                 s=(path,), pre=True)

    plan.sync("cgroups")
    if "user" in ns.new:
        plan.add(lib.OP_SETRESGID, "become root in the user namespace (gid)", n=(0,))
        plan.add(lib.OP_SETRESUID, "become root in the user namespace (uid)", n=(0,))
    plan.add(lib.OP_SETSID, "setsid")
    if "network" in ns.new:
        plan.add(lib.OP_LOOPBACK_UP, "bring up the loopback interface")

    if ns.has("mount"):
        _prepare_rootfs(plan, config, ns, opts)
    elif opts.has_hooks:
        plan.sync("hooks")

    if ns.has("mount"):
        _finalize_rootfs(plan, config)

    if config.get("hostname"):
        plan.add(lib.OP_SETHOSTNAME, "sethostname", s=(config["hostname"],))
    if config.get("domainname"):
        plan.add(lib.OP_SETDOMAINNAME, "setdomainname", s=(config["domainname"],))
    for key, value in (linux.get("sysctl") or {}).items():
        path = "/proc/sys/" + key.replace(".", "/")
        plan.add(lib.OP_WRITE_FILE, f"write sysctl {key}", s=(path, value))
    for path in linux.get("readonlyPaths") or []:
        plan.add(lib.OP_READONLY_PATH, f"make {path} read-only", s=(path,))
    for path in linux.get("maskedPaths") or []:
        plan.add(lib.OP_MASK_PATH, f"mask {path}", s=(path, None))
    if process.get("noNewPrivileges"):
        plan.add(lib.OP_NO_NEW_PRIVS, "set no_new_privs")

    plan.sync("ready")

    nnp = bool(process.get("noNewPrivileges"))
    # Without no_new_privs loading seccomp needs CAP_SYS_ADMIN: load it before
    # the capabilities go; otherwise as late as possible.
    if opts.seccomp is not None and not nnp:
        _add_seccomp(plan, opts)
    _finalize_namespace(plan, process, linux, ns, opts)
    argv = list(process["args"])
    env = environment(process, opts.rootfs)
    plan.add(lib.OP_LOOKUP, f"look up {argv[0]}", v=(argv, env))
    if opts.seccomp is not None and nnp and opts.seccomp_notify:
        _add_seccomp(plan, opts)  # the notify fd must reach the runtime before it exits
    if "personality" in linux:
        plan.add(lib.OP_PERSONALITY, "set personality", n=(_personality(linux["personality"]),))
    plan.add(lib.OP_CLEAR_PDEATHSIG, "clear the parent death signal")
    plan.sync("waiting")
    plan.add(lib.OP_WAIT_START, "wait for start", fd=opts.listener_fd)
    if opts.seccomp is not None and nnp and not opts.seccomp_notify:
        _add_seccomp(plan, opts)
    plan.add(lib.OP_EXEC, f"exec {argv[0]}", v=(argv, env))
    return plan


def _prepare_rootfs(plan: Plan, config: dict, ns: Namespaces, opts: InitOptions) -> None:
    linux = config.get("linux") or {}
    propagation = linux.get("rootfsPropagation") or ""
    from runtime.process.mount_options import PROPAGATION

    root_flag = PROPAGATION.get(propagation, lib.MS_SLAVE | lib.MS_REC)
    if root_flag & lib.MS_SHARED:
        root_flag = lib.MS_SLAVE | lib.MS_REC  # / must not be shared for pivot_root
    plan.add(lib.OP_MOUNT, "set propagation of /", flags=root_flag, s=(None, "/", None, None))
    plan.add(lib.OP_MOUNT, "bind mount the rootfs on itself", flags=lib.MS_BIND | lib.MS_REC,
             s=(opts.rootfs, opts.rootfs, "bind", None))
    plan.add(lib.OP_OPEN_ROOT, "open the rootfs", s=(opts.rootfs,))
    mount_list = config.get("mounts") or []
    for m in mount_list:
        mounts.add_mount(plan, m, opts.bundle, opts.cgroup_mount)
    dev_bound = any(m.get("destination", "").rstrip("/") == "/dev" and mounts.is_bind(m)
                    for m in mount_list)
    if not dev_bound:
        plan.add(lib.OP_MKDIR_IN_ROOT, "create /dev", s=("/dev",), n=(0o755,))
        devices.add_devices(plan, config, "user" in ns.new)
        devices.add_symlinks(plan)
    cwd = config["process"].get("cwd") or "/"
    plan.add(lib.OP_MKDIR_IN_ROOT, f"create cwd {cwd}", s=(cwd,), n=(0o755,))
    if opts.has_hooks:
        plan.sync("hooks")
    if opts.no_pivot:
        plan.add(lib.OP_CHROOT, "move the rootfs to / and chroot", s=(opts.rootfs,))
    else:
        plan.add(lib.OP_PIVOT_ROOT, "pivot_root", s=(opts.rootfs,))
    if propagation:
        plan.add(lib.OP_MOUNT, "apply rootfsPropagation", flags=PROPAGATION[propagation],
                 s=(None, "/", None, None))


def _finalize_rootfs(plan: Plan, config: dict) -> None:
    for m in config.get("mounts") or []:
        if (m.get("destination", "").rstrip("/") == "/dev" and "ro" in (m.get("options") or [])
                and not mounts.is_bind(m)):
            plan.add(lib.OP_REMOUNT, "remount /dev read-only", flags=lib.MS_RDONLY,
                     s=(None, "/dev"))
    if (config.get("root") or {}).get("readonly"):
        plan.add(lib.OP_REMOUNT, "remount the rootfs read-only",
                 flags=lib.MS_BIND | lib.MS_RDONLY, s=(None, "/"))
    plan.add(lib.OP_UMASK, "umask 0022", n=(0o022,))


def _finalize_namespace(plan: Plan, process: dict, linux: dict, ns: Namespaces,
                        opts: InitOptions) -> None:
    plan.add(lib.OP_CLOSE_FDS, "close inherited fds", n=(3 + opts.preserve_fds,))
    caps = process.get("capabilities") or {}
    plan.add(lib.OP_CAP_BOUNDING, "drop bounding capabilities",
             n=(capabilities.mask(caps.get("bounding"), "bounding"),))
    plan.add(lib.OP_KEEPCAPS, "keep capabilities across setuid", n=(1,))
    user = process.get("user") or {}
    uid, gid = int(user.get("uid", 0)), int(user.get("gid", 0))
    groups = [int(g) for g in user.get("additionalGids") or []]
    if not _setgroups_denied(linux, ns):
        data = b"".join(g.to_bytes(4, "little") for g in groups)
        plan.add(lib.OP_SETGROUPS, "setgroups", data=data, count=len(groups))
    plan.add(lib.OP_SETRESGID, f"setgid {gid}", n=(gid,))
    plan.add(lib.OP_SETRESUID, f"setuid {uid}", n=(uid,))
    plan.add(lib.OP_KEEPCAPS, "clear keep-caps", n=(0,))
    plan.add(lib.OP_CAPSET, "set capabilities", n=(
        capabilities.mask(caps.get("effective"), "effective"),
        capabilities.mask(caps.get("permitted"), "permitted"),
        capabilities.mask(caps.get("inheritable"), "inheritable")))
    plan.add(lib.OP_CAP_AMBIENT, "set ambient capabilities",
             n=(capabilities.mask(caps.get("ambient"), "ambient"),))
    if "umask" in user:
        plan.add(lib.OP_UMASK, f"umask {user['umask']:o}", n=(int(user["umask"]),))
    plan.add(lib.OP_CHDIR, f"chdir {process.get('cwd') or '/'}", s=(process.get("cwd") or "/",))


def _setgroups_denied(linux: dict, ns: Namespaces) -> bool:
    # In a new user namespace without a gid mapping for the caller, setgroups is denied.
    return "user" in ns.new and not linux.get("gidMappings")


def _add_seccomp(plan: Plan, opts: InitOptions) -> None:
    assert opts.seccomp is not None
    plan.add(lib.OP_SECCOMP, "load the seccomp filter", flags=opts.seccomp_flags,
             data=opts.seccomp, count=len(opts.seccomp) // 8)


def _personality(p: dict) -> int:
    domains = {"LINUX": lib.PER_LINUX, "LINUX32": lib.PER_LINUX32}
    return domains.get(p.get("domain", "LINUX"), lib.PER_LINUX)


def uses_stage1(joined: list) -> bool:
    """Joining a namespace by path needs a first stage that setns()es then clones."""
    return bool(joined)


def rootfs_path(config: dict, bundle: str) -> str:
    root = (config.get("root") or {}).get("path") or "rootfs"
    return os.path.realpath(os.path.join(bundle, root))
