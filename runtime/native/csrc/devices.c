/* Device nodes and symlinks under the container's /dev. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pyrunc.h"

/* Open the parent directory of `path` inside the root; *base points into buf. */
static int open_parent_in_root(struct child_ctx *ctx, const char *path, char *buf, size_t len,
                               const char **base)
{
    snprintf(buf, len, "%s", path);
    char *slash = strrchr(buf, '/');
    if (!slash) {
        *base = buf;
        return resolve_in_root(ctx, "/", O_PATH | O_DIRECTORY);
    }
    *slash = '\0';
    *base = slash + 1;
    return resolve_in_root(ctx, buf[0] ? buf : "/", O_PATH | O_DIRECTORY);
}

int op_mknod_in_root(struct child_ctx *ctx, const struct pyrunc_op *op)
{
    char buf[4096];
    const char *base;
    int dir = open_parent_in_root(ctx, op->s[0], buf, sizeof(buf), &base);
    if (dir < 0)
        return op_fail(ctx, "open parent of device %s", op->s[0]);
    int r = mknodat(dir, base, (mode_t)op->n[0], (dev_t)op->n[1]);
    if (r < 0 && errno == EEXIST) {
        /* Only the very same device may already be there (the spec's MUST). */
        struct stat st;
        if (fstatat(dir, base, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
            (st.st_mode & S_IFMT) == ((mode_t)op->n[0] & S_IFMT) &&
            (S_ISFIFO(st.st_mode) || st.st_rdev == (dev_t)op->n[1]))
            r = 0;
        else
            op_fail(ctx, "create device %s: a different file exists there", op->s[0]);
    } else if (r < 0) {
        op_fail(ctx, "mknod %s", op->s[0]);
    }
    /* mknod is subject to the umask: set the configured mode exactly. */
    if (r == 0 && fchmodat(dir, base, (mode_t)op->n[0] & 07777, 0) < 0)
        r = op_fail(ctx, "chmod device %s", op->s[0]);
    if (r == 0 && fchownat(dir, base, (uid_t)op->n[2], (gid_t)op->n[3], AT_SYMLINK_NOFOLLOW) < 0)
        r = op_fail(ctx, "chown device %s", op->s[0]);
    int e = errno;
    close(dir);
    errno = e;
    return r;
}

/* In a user namespace mknod is not allowed: bind-mount the host's node instead. */
int op_bind_dev_in_root(struct child_ctx *ctx, const struct pyrunc_op *op)
{
    struct pyrunc_op mk = { .kind = OP_MKFILE_IN_ROOT, .s = { op->s[1] } };
    if (op_mkfile_in_root(ctx, &mk) < 0)
        return -1;
    struct pyrunc_op bind = { .kind = OP_MOUNT_IN_ROOT, .flags = MS_BIND,
                              .s = { op->s[0], op->s[1], "bind", NULL } };
    return op_mount_in_root(ctx, &bind);
}

int op_symlink_in_root(struct child_ctx *ctx, const struct pyrunc_op *op)
{
    char buf[4096];
    const char *base;
    int dir = open_parent_in_root(ctx, op->s[1], buf, sizeof(buf), &base);
    if (dir < 0)
        return op_fail(ctx, "open parent of symlink %s", op->s[1]);
    int r = symlinkat(op->s[0], dir, base);
    int e = errno;
    close(dir);
    if (r < 0 && e != EEXIST) {
        errno = e;
        return op_fail(ctx, "symlink %s -> %s", op->s[1], op->s[0]);
    }
    return 0;
}
