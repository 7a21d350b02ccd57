/*
 * pyrunc native hot path: the code that runs between clone() and execve().
 *
 * Python builds a *plan*: an ordered list of small operations (mount this,
 * set that uid, wait for the parent, ...).  The child runs only C: it walks
 * the list, one syscall step per operation, and reports the first failure
 * (operation index, errno, message) back over the sync socket.  The order of
 * operations therefore lives in Python (runtime/process/init_plan.py), where
 * it is easy to read; the C stays small and boring.
 */
#ifndef PYRUNC_H
#define PYRUNC_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Operation kinds.  Keep in sync with runtime/native/cdefs/plan.py. */
enum pyrunc_op_kind {
    OP_SYNC = 1,          /* n[0]=sync id: tell the parent, wait for its ack */
    OP_SETNS,             /* fd, flags=nstype */
    OP_UNSHARE,           /* flags=CLONE_NEW* */
    OP_SETSID,
    OP_SETRESUID,         /* n[0]=uid (real, effective, saved) */
    OP_SETRESGID,         /* n[0]=gid */
    OP_LOOPBACK_UP,
    OP_MOUNT,             /* s[0]=source s[1]=target (absolute) s[2]=fstype s[3]=data, flags */
    OP_OPEN_ROOT,         /* s[0]=rootfs path: later *_IN_ROOT ops resolve inside it */
    OP_MKDIR_IN_ROOT,     /* s[0]=path, n[0]=mode */
    OP_MKFILE_IN_ROOT,    /* s[0]=path */
    OP_MOUNT_IN_ROOT,     /* like OP_MOUNT, target s[1] resolved inside the root */
    OP_MKNOD_IN_ROOT,     /* s[0]=path n[0]=mode n[1]=dev n[2]=uid n[3]=gid */
    OP_BIND_DEV_IN_ROOT,  /* s[0]=host device path, s[1]=path in root (user namespaces) */
    OP_SYMLINK_IN_ROOT,   /* s[0]=link target, s[1]=link path */
    OP_PIVOT_ROOT,        /* s[0]=rootfs */
    OP_CHROOT,            /* s[0]=rootfs (--no-pivot: move mount and chroot; flags 1: chroot only) */
    OP_REMOUNT,           /* s[1]=path (in the final root), flags: remount with these */
    OP_MASK_PATH,         /* s[0]=path */
    OP_READONLY_PATH,     /* s[0]=path */
    OP_SETHOSTNAME,       /* s[0] */
    OP_SETDOMAINNAME,     /* s[0] */
    OP_WRITE_FILE,        /* s[0]=path s[1]=content */
    OP_NO_NEW_PRIVS,
    OP_PERSONALITY,       /* n[0] */
    OP_KEEPCAPS,          /* n[0]=0|1 */
    OP_CAP_BOUNDING,      /* n[0]=mask of capabilities to keep */
    OP_CAPSET,            /* n[0]=effective n[1]=permitted n[2]=inheritable */
    OP_CAP_AMBIENT,       /* n[0]=mask */
    OP_SETGROUPS,         /* data=gid_t[], len=count */
    OP_UMASK,             /* n[0] */
    OP_CHDIR,             /* s[0]=cwd, checked to lie inside the root */
    OP_CLOSE_FDS,         /* n[0]=first fd to mark close-on-exec */
    OP_LOOKUP,            /* v[0]=argv v[1]=envp: find argv[0] in $PATH now */
    OP_CLEAR_PDEATHSIG,
    OP_WAIT_START,        /* fd=listening socket: block until `start` says go */
    OP_SECCOMP,           /* data=struct sock_filter[], len=count, flags */
    OP_EXEC,              /* v[0]=argv v[1]=envp */
    OP_FIX_STDIO,         /* n[0]=uid: chown stdio to the user about to be set */
    OP_CHDIR_TRY,         /* s[0]=cwd: chdir; if refused, OP_CHDIR_RETRY does it later */
    OP_CHDIR_RETRY,       /* s[0]=cwd: chdir, if OP_CHDIR_TRY was refused */
    OP_SCHED_SETATTR,     /* data=struct sched_attr */
    OP_IOPRIO_SET,        /* n[0]=which n[1]=who n[2]=ioprio */
    OP_SCHED_SETAFFINITY, /* data=cpu mask, len=bytes */
    OP_SET_DUMPABLE,      /* n[0]=0|1 (before joining a container's namespaces: 0) */
    OP_PTY_OPEN,          /* open /dev/ptmx (in the root if open), unlock, open the slave;
                             n[0]=1: clear ONLCR (a foreground relay) */
    OP_PTY_RESIZE,        /* n[0]=rows n[1]=columns */
    OP_PTY_MOUNT_CONSOLE, /* s[0]=path in root (existing) to bind the slave on */
    OP_PTY_SEND,          /* fd=console socket: send the master (SCM_RIGHTS), close both */
    OP_PTY_STDIO,         /* the slave becomes fds 0, 1, 2 */
    OP_SETCTTY,           /* fd 0 becomes the controlling terminal */
    OP_MOVE_MOUNT,        /* fd=detached tree (idmapped), s[0]=destination in the root */
    OP_MOUNT_SETATTR,     /* s[0]=mount in the root, n[0]=attrs to set n[1]=to clear, recursive */
    OP_SET_MEMPOLICY,     /* n[0]=mode|flags, data=nodemask, len=bits */
    OP_TMPFS_COPYUP,      /* like OP_MOUNT_IN_ROOT for a tmpfs, filled with what s[1] held */
    OP_SEAL_TRAMPOLINE,   /* sealed memfd with the exec trampoline; flags: SEAL_* (sealed_exec.c) */
    OP_EXEC_SEALED,       /* v[0]={"", "", argv...} v[1]=envp: exec through the trampoline */
    OP_JOIN_KEYRING,      /* s[0]=session keyring name, flags: PYRUNC_KEYRING_* (keyring.c) */
    OP_JOIN_CGROUP,       /* fd=a v1 "tasks" file, s[0]=its path; flags=1: best effort (cgroups.c) */
    OP_HIDE_MOUNT,        /* s[0]=a host mount (--no-pivot): detach it, or cover it with tmpfs */
    OP_REOPEN_DEV_NULL,   /* stdio that is the host's /dev/null becomes the container's (creds.c) */
    OP_SETNS_PATH,        /* s[0]=a namespace file, flags=its CLONE_NEW* kind: open, setns */
    OP__COUNT
};

struct pyrunc_op {
    int kind;
    int fd;
    unsigned long flags;
    long long n[4];
    const char *s[4];
    char *const *v[2];
    const void *data;
    size_t len;
    size_t data_size;               /* bytes at data (len may count other units) */
};

struct pyrunc_plan {
    int sync_fd;                    /* the child's end of the sync socket */
    unsigned long clone_flags;      /* CLONE_NEW* of the namespaces created */
    int cgroup_fd;                  /* >= 0: cgroup2 directory to clone the process into */
    const struct pyrunc_op *pre_ops;
    size_t n_pre;
    const struct pyrunc_op *ops;
    size_t n_ops;
    int close_from;                 /* first fd the container may not inherit (0: none) */
    const int *keep_fds;            /* ascending: fds >= close_from the plan itself uses */
    size_t n_keep;
};

/* Messages on the sync socket (SOCK_SEQPACKET, one struct per message). */
enum pyrunc_msg_type {
    MSG_SYNC = 1,      /* child -> parent: reached OP_SYNC n[0]; waits for MSG_ACK */
    MSG_ACK,           /* parent -> child: go on */
    MSG_ABORT,         /* parent -> child: give up and exit */
    MSG_ERROR,         /* child -> parent: op failed */
    MSG_CHILD_PID,     /* pyrunc-init -> parent: pid of the container process */
    MSG_FD,            /* child -> parent: an fd (SCM_RIGHTS), value=what it is */
};

struct pyrunc_msg {
    int type;
    int op_index;
    int err;
    long long value;
    char text[480];
};

/* A plan in one relocatable buffer (plan_wire.c): the runtime flattens it into a
 * memfd, pyrunc-init (init_helper.c) maps it and runs it. */
int pyrunc_plan_memfd(const struct pyrunc_plan *plan);
const struct pyrunc_plan *pyrunc_plan_map(int fd);
/* pyrunc-init's work (spawn.c): the pre-operations (joining namespaces), the clone
 * of the container process as a sibling, its pid to the runtime; never returns. */
__attribute__((noreturn)) void pyrunc_launch(const struct pyrunc_plan *plan);

/* Parent side (called from Python through cffi). */
int pyrunc_socketpair(int fds[2]);
int pyrunc_send_msg(int fd, const struct pyrunc_msg *msg, int pass_fd);
int pyrunc_recv_msg(int fd, struct pyrunc_msg *msg, int *recv_fd, int timeout_ms);
int pyrunc_listen_unix(const char *path);
int pyrunc_connect_unix(const char *path);
int pyrunc_prlimit(pid_t pid, int resource, unsigned long long soft, unsigned long long hard);

/* OCI hooks (hook_spawn.c): a program started with stdio, cwd and env as given,
 * inside the namespaces `nstypes` of process ns_pid (0: the runtime's).  On a
 * failure before execve the child writes {step, errno} to err_fd and exits 127. */
struct pyrunc_hook {
    pid_t ns_pid;
    int nstypes;
    const char *path;
    char *const *argv;
    char *const *envp;      /* NULL: the runtime's environment */
    const char *cwd;        /* NULL: unchanged (after setns: the namespace's root) */
    const char *const *cgroup_procs; /* NULL-terminated cgroup.procs files to join, or NULL */
    int stdio[3];
    int err_fd;
    const void *seccomp;    /* the container's BPF filter (startContainer), or NULL */
    unsigned int seccomp_len;   /* instructions */
    unsigned int seccomp_flags;
};
enum pyrunc_hook_step {
    PYRUNC_HOOK_STEP_SETNS = 1,
    PYRUNC_HOOK_STEP_FORK,
    PYRUNC_HOOK_STEP_CHDIR,
    PYRUNC_HOOK_STEP_STDIO,
    PYRUNC_HOOK_STEP_EXEC,
    PYRUNC_HOOK_STEP_CGROUP,
    PYRUNC_HOOK_STEP_SECCOMP,
};
pid_t pyrunc_spawn_hook(const struct pyrunc_hook *hook);

unsigned int pyrunc_libseccomp_version(void);

/* The new mount API, runtime side (mount_api.c): idmapped trees for OP_MOVE_MOUNT. */
int pyrunc_open_tree(const char *path, int recursive);
int pyrunc_mount_setattr(int fd, int recursive, uint64_t attr_set, uint64_t attr_clr,
                         int userns_fd);
pid_t pyrunc_clone_userns(void);

/* Child side: internal. */
struct child_ctx {
    int sync_fd;
    int root_fd;
    int conn_fd;
    int op_index;
    const char *exec_path;
    int cwd_pending;                /* OP_CHDIR_TRY was refused: OP_CHDIR_RETRY runs */
    int pty_master;                 /* OP_PTY_OPEN .. OP_PTY_SEND, else -1 */
    int pty_slave;                  /* OP_PTY_OPEN .. OP_PTY_STDIO, else -1 */
    unsigned int pty_index;         /* /dev/pts/<index> */
    char exec_buf[4096];
    char msg[400];
};

typedef int (*op_fn)(struct child_ctx *ctx, const struct pyrunc_op *op);

/* Record a failure message; returns -1 with errno preserved. */
int op_fail(struct child_ctx *ctx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* 0 if the cwd is inside the root, else op_fail (process.c). */
int check_cwd_inside(struct child_ctx *);

/* One function per operation, grouped by concern in the other .c files. */
int op_sync(struct child_ctx *, const struct pyrunc_op *);
int op_setns(struct child_ctx *, const struct pyrunc_op *);
int op_setns_path(struct child_ctx *, const struct pyrunc_op *);
int op_unshare(struct child_ctx *, const struct pyrunc_op *);
int op_setsid(struct child_ctx *, const struct pyrunc_op *);
int op_setresuid(struct child_ctx *, const struct pyrunc_op *);
int op_setresgid(struct child_ctx *, const struct pyrunc_op *);
int op_loopback_up(struct child_ctx *, const struct pyrunc_op *);
int op_mount(struct child_ctx *, const struct pyrunc_op *);
int op_open_root(struct child_ctx *, const struct pyrunc_op *);
int op_mkdir_in_root(struct child_ctx *, const struct pyrunc_op *);
int op_mkfile_in_root(struct child_ctx *, const struct pyrunc_op *);
int op_mount_in_root(struct child_ctx *, const struct pyrunc_op *);
int op_mknod_in_root(struct child_ctx *, const struct pyrunc_op *);
int op_bind_dev_in_root(struct child_ctx *, const struct pyrunc_op *);
int op_symlink_in_root(struct child_ctx *, const struct pyrunc_op *);
int op_pivot_root(struct child_ctx *, const struct pyrunc_op *);
int op_chroot(struct child_ctx *, const struct pyrunc_op *);
int op_remount(struct child_ctx *, const struct pyrunc_op *);
int op_mask_path(struct child_ctx *, const struct pyrunc_op *);
int op_readonly_path(struct child_ctx *, const struct pyrunc_op *);
int op_sethostname(struct child_ctx *, const struct pyrunc_op *);
int op_setdomainname(struct child_ctx *, const struct pyrunc_op *);
int op_write_file(struct child_ctx *, const struct pyrunc_op *);
int op_no_new_privs(struct child_ctx *, const struct pyrunc_op *);
int op_personality(struct child_ctx *, const struct pyrunc_op *);
int op_keepcaps(struct child_ctx *, const struct pyrunc_op *);
int op_cap_bounding(struct child_ctx *, const struct pyrunc_op *);
int op_capset(struct child_ctx *, const struct pyrunc_op *);
int op_cap_ambient(struct child_ctx *, const struct pyrunc_op *);
int op_setgroups(struct child_ctx *, const struct pyrunc_op *);
int op_umask(struct child_ctx *, const struct pyrunc_op *);
int op_chdir(struct child_ctx *, const struct pyrunc_op *);
int op_close_fds(struct child_ctx *, const struct pyrunc_op *);
int op_lookup(struct child_ctx *, const struct pyrunc_op *);
int op_clear_pdeathsig(struct child_ctx *, const struct pyrunc_op *);
int op_wait_start(struct child_ctx *, const struct pyrunc_op *);
int op_seccomp(struct child_ctx *, const struct pyrunc_op *);
int op_exec(struct child_ctx *, const struct pyrunc_op *);
int op_move_mount(struct child_ctx *, const struct pyrunc_op *);
int op_mount_setattr(struct child_ctx *, const struct pyrunc_op *);
int op_set_mempolicy(struct child_ctx *, const struct pyrunc_op *);
int op_tmpfs_copyup(struct child_ctx *, const struct pyrunc_op *);
int op_seal_trampoline(struct child_ctx *, const struct pyrunc_op *);
int op_exec_sealed(struct child_ctx *, const struct pyrunc_op *);
int op_join_keyring(struct child_ctx *, const struct pyrunc_op *);
int op_join_cgroup(struct child_ctx *, const struct pyrunc_op *);
int op_hide_mount(struct child_ctx *, const struct pyrunc_op *);
int op_fix_stdio(struct child_ctx *, const struct pyrunc_op *);
int op_reopen_dev_null(struct child_ctx *, const struct pyrunc_op *);
int op_chdir_try(struct child_ctx *, const struct pyrunc_op *);
int op_chdir_retry(struct child_ctx *, const struct pyrunc_op *);
int op_sched_setattr(struct child_ctx *, const struct pyrunc_op *);
int op_ioprio_set(struct child_ctx *, const struct pyrunc_op *);
int op_sched_setaffinity(struct child_ctx *, const struct pyrunc_op *);
int op_set_dumpable(struct child_ctx *, const struct pyrunc_op *);
int op_pty_open(struct child_ctx *, const struct pyrunc_op *);
int op_pty_resize(struct child_ctx *, const struct pyrunc_op *);
int op_pty_mount_console(struct child_ctx *, const struct pyrunc_op *);
int op_pty_send(struct child_ctx *, const struct pyrunc_op *);
int op_pty_stdio(struct child_ctx *, const struct pyrunc_op *);
int op_setctty(struct child_ctx *, const struct pyrunc_op *);

/* Shared helpers. */
int resolve_in_root(struct child_ctx *ctx, const char *path, int flags);
int reset_signals(void);

#endif
