/* pyrunc-init: clone() the container process and run its plan. */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/sched.h> /* struct clone_args, CLONE_INTO_CGROUP */

#include "pyrunc.h"

static const op_fn op_table[OP__COUNT] = {
    [OP_SYNC] = op_sync,
    [OP_SETNS] = op_setns,
    [OP_SETNS_PATH] = op_setns_path,
    [OP_UNSHARE] = op_unshare,
    [OP_SETSID] = op_setsid,
    [OP_SETRESUID] = op_setresuid,
    [OP_SETRESGID] = op_setresgid,
    [OP_LOOPBACK_UP] = op_loopback_up,
    [OP_MOUNT] = op_mount,
    [OP_OPEN_ROOT] = op_open_root,
    [OP_MKDIR_IN_ROOT] = op_mkdir_in_root,
    [OP_MKFILE_IN_ROOT] = op_mkfile_in_root,
    [OP_MOUNT_IN_ROOT] = op_mount_in_root,
    [OP_MKNOD_IN_ROOT] = op_mknod_in_root,
    [OP_BIND_DEV_IN_ROOT] = op_bind_dev_in_root,
    [OP_SYMLINK_IN_ROOT] = op_symlink_in_root,
    [OP_PIVOT_ROOT] = op_pivot_root,
    [OP_CHROOT] = op_chroot,
    [OP_REMOUNT] = op_remount,
    [OP_MASK_PATH] = op_mask_path,
    [OP_READONLY_PATH] = op_readonly_path,
    [OP_SETHOSTNAME] = op_sethostname,
    [OP_SETDOMAINNAME] = op_setdomainname,
    [OP_WRITE_FILE] = op_write_file,
    [OP_NO_NEW_PRIVS] = op_no_new_privs,
    [OP_PERSONALITY] = op_personality,
    [OP_KEEPCAPS] = op_keepcaps,
    [OP_CAP_BOUNDING] = op_cap_bounding,
    [OP_CAPSET] = op_capset,
    [OP_CAP_AMBIENT] = op_cap_ambient,
    [OP_SETGROUPS] = op_setgroups,
    [OP_UMASK] = op_umask,
    [OP_CHDIR] = op_chdir,
    [OP_CLOSE_FDS] = op_close_fds,
    [OP_LOOKUP] = op_lookup,
    [OP_CLEAR_PDEATHSIG] = op_clear_pdeathsig,
    [OP_WAIT_START] = op_wait_start,
    [OP_SECCOMP] = op_seccomp,
    [OP_EXEC] = op_exec,
    [OP_FIX_STDIO] = op_fix_stdio,
    [OP_REOPEN_DEV_NULL] = op_reopen_dev_null,
    [OP_CHDIR_TRY] = op_chdir_try,
    [OP_CHDIR_RETRY] = op_chdir_retry,
    [OP_SCHED_SETATTR] = op_sched_setattr,
    [OP_IOPRIO_SET] = op_ioprio_set,
    [OP_SCHED_SETAFFINITY] = op_sched_setaffinity,
    [OP_SET_DUMPABLE] = op_set_dumpable,
    [OP_MOVE_MOUNT] = op_move_mount,
    [OP_MOUNT_SETATTR] = op_mount_setattr,
    [OP_SET_MEMPOLICY] = op_set_mempolicy,
    [OP_TMPFS_COPYUP] = op_tmpfs_copyup,
    [OP_SEAL_TRAMPOLINE] = op_seal_trampoline,
    [OP_EXEC_SEALED] = op_exec_sealed,
    [OP_JOIN_KEYRING] = op_join_keyring,
    [OP_JOIN_CGROUP] = op_join_cgroup,
    [OP_HIDE_MOUNT] = op_hide_mount,
    [OP_PTY_OPEN] = op_pty_open,
    [OP_PTY_RESIZE] = op_pty_resize,
    [OP_PTY_MOUNT_CONSOLE] = op_pty_mount_console,
    [OP_PTY_SEND] = op_pty_send,
    [OP_PTY_STDIO] = op_pty_stdio,
    [OP_SETCTTY] = op_setctty,
};

int op_fail(struct child_ctx *ctx, const char *fmt, ...)
{
    int saved = errno;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ctx->msg, sizeof(ctx->msg), fmt, ap);
    va_end(ap);
    errno = saved;
    return -1;
}

/* Raw clone without a new stack: behaves like fork() but takes namespace flags. */
static pid_t raw_clone(unsigned long flags)
{
    return (pid_t)syscall(SYS_clone, flags | SIGCHLD, NULL, NULL, NULL, 0);
}

/* clone3 straight into the cgroup2 directory cgroup_fd: the kernel places the
 * child at fork, so no migration (and none of its global lock, see cgroups.c)
 * is needed.  Where the kernel or the permissions refuse (old kernel, a joined
 * user namespace), a plain clone; the runtime then moves the process. */
static pid_t clone_into(unsigned long flags, int cgroup_fd)
{
    if (cgroup_fd >= 0) {
        struct clone_args args = {
            .flags = flags | CLONE_INTO_CGROUP,
            .cgroup = (unsigned long long)cgroup_fd,
            /* With CLONE_PARENT the exit signal is our parent's: clone3 wants 0. */
            .exit_signal = (flags & CLONE_PARENT) ? 0 : SIGCHLD,
        };
        pid_t pid = (pid_t)syscall(SYS_clone3, &args, sizeof(args));
        if (pid >= 0)
            return pid;
    }
    return raw_clone(flags);
}

static void report_error(struct child_ctx *ctx, int err)
{
    struct pyrunc_msg m = { .type = MSG_ERROR, .op_index = ctx->op_index, .err = err };
    snprintf(m.text, sizeof(m.text), "%s", ctx->msg);
    pyrunc_send_msg(ctx->sync_fd, &m, -1);
    if (ctx->conn_fd >= 0) {
        /* After `start` connected, it is the one waiting for our verdict. */
        char line[600];
        int n = snprintf(line, sizeof(line), "%s: %s", ctx->msg, strerror(err));
        if (write(ctx->conn_fd, line, (size_t)n) < 0) { /* nobody left to tell */ }
    }
}

__attribute__((noreturn)) static void run_ops(struct child_ctx *ctx, const struct pyrunc_op *ops, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const struct pyrunc_op *op = &ops[i];
        ctx->op_index = (int)i;
        ctx->msg[0] = '\0';
        if (op->kind <= 0 || op->kind >= OP__COUNT || op_table[op->kind] == NULL) {
            errno = EINVAL;
            op_fail(ctx, "unknown operation %d", op->kind);
            report_error(ctx, EINVAL);
            _exit(1);
        }
        if (op_table[op->kind](ctx, op) < 0) {
            report_error(ctx, errno);
            _exit(1);
        }
    }
    /* A plan always ends in OP_EXEC; falling off the end is a plan bug. */
    errno = EINVAL;
    op_fail(ctx, "plan ended without exec");
    report_error(ctx, EINVAL);
    _exit(1);
}

/* Close every fd the runtime inherited beyond stdio and --preserve-fds, except
 * those the plan uses: the init may wait long for `start`, and a client reading
 * a pipe to EOF must not wait on it (runc's init is a fresh exec). */
static void close_inherited(const struct pyrunc_plan *plan)
{
    if (plan->close_from <= 0)
        return;
    unsigned int lo = (unsigned int)plan->close_from;
    for (size_t i = 0; i < plan->n_keep; i++) {
        unsigned int k = (unsigned int)plan->keep_fds[i];
        if (k < lo)
            continue;
        if (k > lo)
            syscall(SYS_close_range, lo, k - 1, 0);
        lo = k + 1;
    }
    syscall(SYS_close_range, lo, ~0U, 0);
}

__attribute__((noreturn)) static void child_main(const struct pyrunc_plan *plan)
{
    struct child_ctx ctx = { .sync_fd = plan->sync_fd, .root_fd = -1, .conn_fd = -1,
                             .pty_master = -1, .pty_slave = -1 };
    /* Until the parent has recorded our pid, die with it rather than linger. */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    reset_signals();
    close_inherited(plan);
    run_ops(&ctx, plan->ops, plan->n_ops);
}

/* pyrunc-init's whole job: join existing namespaces, then clone the container
 * process as a sibling (CLONE_PARENT), so that it is a child of the runtime, report
 * its pid and exit.  The container process is a clone of this small static program,
 * not of the runtime's Python: it maps a few pages while it waits for `start`. */
void pyrunc_launch(const struct pyrunc_plan *plan)
{
    struct child_ctx ctx = { .sync_fd = plan->sync_fd, .root_fd = -1, .conn_fd = -1,
                             .pty_master = -1, .pty_slave = -1 };
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    reset_signals();
    for (size_t i = 0; i < plan->n_pre; i++) {
        ctx.op_index = -1 - (int)i; /* negative: an index into pre_ops */
        if (op_table[plan->pre_ops[i].kind](&ctx, &plan->pre_ops[i]) < 0) {
            report_error(&ctx, errno);
            _exit(1);
        }
    }
    pid_t pid = clone_into(plan->clone_flags | CLONE_PARENT, plan->cgroup_fd);
    if (pid < 0) {
        op_fail(&ctx, "clone");
        report_error(&ctx, errno);
        _exit(1);
    }
    if (pid == 0)
        child_main(plan);
    struct pyrunc_msg m = { .type = MSG_CHILD_PID, .value = pid };
    pyrunc_send_msg(plan->sync_fd, &m, -1);
    _exit(0);
}
