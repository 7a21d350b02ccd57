/* Credentials: groups, capabilities, no_new_privs, personality, umask, and the
 * stdio ownership and cwd steps around the user switch. */
#define _GNU_SOURCE
#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "pyrunc.h"

int op_no_new_privs(struct child_ctx *ctx, const struct pyrunc_op *op)
{
    (void)op;
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
        return op_fail(ctx, "prctl(PR_SET_NO_NEW_PRIVS)");
    return 0;
}

int op_personality(struct child_ctx *ctx, const struct pyrunc_op *op)
{
    if (personality((unsigned long)op->n[0]) < 0)
        return op_fail(ctx, "personality 0x%llx", op->n[0]);
    return 0;
}

int op_keepcaps(struct child_ctx *ctx, const struct pyrunc_op *op)
{
    if (prctl(PR_SET_KEEPCAPS, (unsigned long)op->n[0], 0, 0, 0) < 0)
        return op_fail(ctx, "prctl(PR_SET_KEEPCAPS)");
    return 0;
}

/* Drop from the bounding set every capability not in the mask n[0]. */
int op_cap_bounding(struct child_ctx *ctx, const struct pyrunc_op *op)
{
    unsigned long long keep = (unsigned long long)op->n[0];
    for (int cap = 0; cap < 64; cap++) {
        if (keep & (1ULL << cap))
            continue;
        if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0) {
            if (errno == EINVAL) /* beyond the kernel's last capability */
                break;
            return op_fail(ctx, "drop capability %d from the bounding set", cap);
        }
    }
    return 0;
}

int op_capset(struct child_ctx *ctx, const struct pyrunc_op *op)
{
    struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
    struct __user_cap_data_struct data[2];
    for (int i = 0; i < 2; i++) {
        data[i].effective = (unsigned int)((unsigned long long)op->n[0] >> (32 * i));
        data[i].permitted = (unsigned int)((unsigned long long)op->n[1] >> (32 * i));
        data[i].inheritable = (unsigned int)((unsigned long long)op->n[2] >> (32 * i));
    }
    if (syscall(SYS_capset, &hdr, data) < 0)
        return op_fail(ctx, "capset");
    return 0;
}

/* Ambient capabilities need the capability in permitted and inheritable;
 * like runc, a raise the kernel refuses is skipped. */
int op_cap_ambient(struct child_ctx *ctx, const struct pyrunc_op *op)
{
    unsigned long long mask = (unsigned long long)op->n[0];
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
        return op_fail(ctx, "clear ambient capabilities");
    for (int cap = 0; cap < 64; cap++)
        if (mask & (1ULL << cap))
            prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0);
    return 0;
}

/* A raw syscall, as setresuid in namespaces.c: glibc's wrapper waits for the parent's threads. */
int op_setgroups(struct child_ctx *ctx, const struct pyrunc_op *op)
{
    if (syscall(SYS_setgroups, op->len, (const gid_t *)op->data) < 0)
        return op_fail(ctx, "setgroups");
    return 0;
}

int op_umask(struct child_ctx *ctx, const struct pyrunc_op *op)
{
    (void)ctx;
    umask((mode_t)op->n[0]);
    return 0;
}

/* Before the user switch, stdio not owned by the new uid is given to it, so that
 * a non-root process can still use its console (as runc's fixStdioPermissions).
 * /dev/null is left alone; a file whose owner is not ours to change is too. */
int op_fix_stdio(struct child_ctx *ctx, const struct pyrunc_op *op)
{
    uid_t uid = (uid_t)op->n[0];
    for (int fd = 0; fd < 3; fd++) {
        struct stat st;
        if (fstat(fd, &st) < 0) {
            if (errno == EBADF)
                continue;
            return op_fail(ctx, "fstat stdio fd %d", fd);
        }
        if (st.st_uid == uid || (S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 3)))
            continue;
        if (fchown(fd, uid, (gid_t)-1) < 0 && errno != EPERM && errno != EROFS)
            return op_fail(ctx, "chown stdio fd %d to %u", fd, uid);
    }
    return 0;
}

/* runc's reOpenDevNull: stdio that is /dev/null is the host's, outside the
 * container's mounts (criu cannot dump a file it cannot reach from there);
 * after the pivot it becomes the container's own /dev/null. */
int op_reopen_dev_null(struct child_ctx *ctx, const struct pyrunc_op *op)
{
    (void)op;
    int null_fd = -1;
    for (int fd = 0; fd < 3; fd++) {
        struct stat st;
        if (fstat(fd, &st) < 0 || !S_ISCHR(st.st_mode) || st.st_rdev != makedev(1, 3))
            continue;
        if (null_fd < 0) {
            null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
            if (null_fd < 0)
                return op_fail(ctx, "open /dev/null in the container");
        }
        if (dup3(null_fd, fd, 0) < 0) {
            int saved = errno;
            close(null_fd);
            errno = saved;
            return op_fail(ctx, "reopen stdio fd %d on the container's /dev/null", fd);
        }
    }
    if (null_fd >= 0)
        close(null_fd);
    return 0;
}

/* runc changes to the cwd before the user switch (root may reach directories the
 * user can't) and, if that was refused, once more after it (the user may reach
 * directories root can't, e.g. in a user namespace). */
int op_chdir_try(struct child_ctx *ctx, const struct pyrunc_op *op)
{
    ctx->cwd_pending = 0;
    if (op_chdir(ctx, op) == 0)
        return 0;
    if (errno != EACCES && errno != EPERM)
        return -1;
    ctx->cwd_pending = 1;
    return 0;
}

/* The retry may follow the seccomp filter (loaded before the user switch without
 * no_new_privs): only chdir and getcwd, calls every profile allows, no openat2.
 * The getcwd check still catches a cwd outside the root (CVE-2024-21626): the
 * kernel resolves the absolute path inside the root, and a /proc/self/fd/N
 * magic link leading out yields "(unreachable)...". */
int op_chdir_retry(struct child_ctx *ctx, const struct pyrunc_op *op)
{
    if (!ctx->cwd_pending)
        return 0;
    if (chdir(op->s[0]) < 0)
        return op_fail(ctx, "chdir to cwd (\"%s\") set in config.json", op->s[0]);
    return check_cwd_inside(ctx);
}
