"""Declarations of csrc/pyrunc.h: the plan, the sync messages, the parent-side calls."""

INCLUDES = '#include "pyrunc.h"'

CDEF = """
typedef int... pid_t;
enum pyrunc_op_kind {
    OP_SYNC, OP_SETNS, OP_UNSHARE, OP_SETSID, OP_SETRESUID, OP_SETRESGID, OP_LOOPBACK_UP,
    OP_MOUNT, OP_OPEN_ROOT, OP_MKDIR_IN_ROOT, OP_MKFILE_IN_ROOT, OP_MOUNT_IN_ROOT,
    OP_MKNOD_IN_ROOT, OP_BIND_DEV_IN_ROOT, OP_SYMLINK_IN_ROOT, OP_PIVOT_ROOT, OP_CHROOT,
    OP_REMOUNT, OP_MASK_PATH, OP_READONLY_PATH, OP_SETHOSTNAME, OP_SETDOMAINNAME,
    OP_WRITE_FILE, OP_NO_NEW_PRIVS, OP_PERSONALITY, OP_KEEPCAPS, OP_CAP_BOUNDING, OP_CAPSET,
    OP_CAP_AMBIENT, OP_SETGROUPS, OP_UMASK, OP_CHDIR, OP_CLOSE_FDS, OP_LOOKUP,
    OP_CLEAR_PDEATHSIG, OP_WAIT_START, OP_SECCOMP, OP_EXEC, OP_FIX_STDIO, OP_CHDIR_TRY,
    OP_CHDIR_RETRY, OP_SCHED_SETATTR, OP_IOPRIO_SET, OP_SCHED_SETAFFINITY, OP_SET_DUMPABLE,
    OP_PTY_OPEN, OP_PTY_RESIZE, OP_PTY_MOUNT_CONSOLE, OP_PTY_SEND, OP_PTY_STDIO, OP_SETCTTY,
    OP_MOVE_MOUNT, OP_MOUNT_SETATTR, OP_SET_MEMPOLICY, OP_TMPFS_COPYUP, OP_JOIN_CGROUP,
    OP_HIDE_MOUNT, OP_REOPEN_DEV_NULL, OP_SETNS_PATH,
    ...
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
    size_t data_size;
};

struct pyrunc_plan {
    int sync_fd;
    unsigned long clone_flags;
    int cgroup_fd;
    const struct pyrunc_op *pre_ops;
    size_t n_pre;
    const struct pyrunc_op *ops;
    size_t n_ops;
    int close_from;
    const int *keep_fds;
    size_t n_keep;
};

enum pyrunc_msg_type { MSG_SYNC, MSG_ACK, MSG_ABORT, MSG_ERROR, MSG_CHILD_PID, MSG_FD, ... };

struct pyrunc_msg {
    int type;
    int op_index;
    int err;
    long long value;
    char text[480];
};

int pyrunc_plan_memfd(const struct pyrunc_plan *plan);
int pyrunc_socketpair(int fds[2]);
int pyrunc_send_msg(int fd, const struct pyrunc_msg *msg, int pass_fd);
int pyrunc_recv_msg(int fd, struct pyrunc_msg *msg, int *recv_fd, int timeout_ms);
int pyrunc_listen_unix(const char *path);
int pyrunc_connect_unix(const char *path);
int pyrunc_prlimit(pid_t pid, int resource, unsigned long long soft, unsigned long long hard);

struct pyrunc_hook {
    pid_t ns_pid;
    int nstypes;
    const char *path;
    char *const *argv;
    char *const *envp;
    const char *cwd;
    const char *const *cgroup_procs;
    int stdio[3];
    int err_fd;
    const void *seccomp;
    unsigned int seccomp_len;
    unsigned int seccomp_flags;
};
enum pyrunc_hook_step {
    PYRUNC_HOOK_STEP_SETNS, PYRUNC_HOOK_STEP_FORK, PYRUNC_HOOK_STEP_CHDIR,
    PYRUNC_HOOK_STEP_STDIO, PYRUNC_HOOK_STEP_EXEC, PYRUNC_HOOK_STEP_CGROUP,
    PYRUNC_HOOK_STEP_SECCOMP, ...
};
pid_t pyrunc_spawn_hook(const struct pyrunc_hook *hook);

int pyrunc_open_tree(const char *path, int recursive);
int pyrunc_mount_setattr(int fd, int recursive, uint64_t attr_set, uint64_t attr_clr,
                         int userns_fd);
pid_t pyrunc_clone_userns(void);
"""
