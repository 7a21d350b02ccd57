/* The new mount API: idmapped bind mounts and recursive mount attributes.
 *
 * An idmapped mount is prepared by the runtime before the container exists
 * (the filesystem's owner, the host, must apply the idmapping): open_tree()
 * clones the source into a detached tree, mount_setattr(MOUNT_ATTR_IDMAP)
 * gives it the mapping of a user namespace made for that purpose
 * (pyrunc_clone_userns), and the container process, which inherits the fd,
 * attaches it with move_mount() (OP_MOVE_MOUNT).  Recursive attributes (rro,
 * rnosuid, ...) are one mount_setattr(AT_RECURSIVE) in the container
 * (OP_MOUNT_SETATTR). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "pyrunc.h"

/* Parent side: a detached copy of the tree at path (with its submounts if
 * recursive); returns the fd or -errno. */
int pyrunc_open_tree(const char *path, int recursive)
{
    unsigned int flags = OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (recursive ? AT_RECURSIVE : 0);
    int fd = open_tree(AT_FDCWD, path, flags);
    return fd < 0 ? -errno : fd;
}

/* Parent side: set and clear attributes of the mount (tree) behind fd; with
 * MOUNT_ATTR_IDMAP in attr_set, userns_fd gives the mapping.  0 or -errno. */
int pyrunc_mount_setattr(int fd, int recursive, uint64_t attr_set, uint64_t attr_clr,
                         int userns_fd)
{
    struct mount_attr attr = {
        .attr_set = attr_set,
        .attr_clr = attr_clr,
        .userns_fd = userns_fd >= 0 ? (uint64_t)userns_fd : 0,
    };
    unsigned int flags = AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0);
    return mount_setattr(fd, "", flags, &attr, sizeof(attr)) < 0 ? -errno : 0;
}

/* Parent side: a child born in a new user namespace that waits to be killed;
 * the runtime writes its id maps and keeps /proc/<pid>/ns/user.  pid or -errno. */
pid_t pyrunc_clone_userns(void)
{
    pid_t pid = (pid_t)syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, NULL, NULL, NULL, 0);
    if (pid < 0)
        return -errno;
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        for (;;)
            pause();
    }
    return pid;
}

/* OP_MOVE_MOUNT: attach the detached tree op->fd at s[0] inside the root. */
int op_move_mount(struct child_ctx *ctx, const struct pyrunc_op *op)
{
    int dest = resolve_in_root(ctx, op->s[0], O_PATH);
    if (dest < 0)
        return op_fail(ctx, "resolve mount destination %s in rootfs", op->s[0]);
    int r = move_mount(op->fd, "", dest, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH);
    int e = errno;
    close(dest);
    if (r < 0) {
        errno = e;
        return op_fail(ctx, "move idmapped mount to rootfs %s", op->s[0]);
    }
    close(op->fd);
    return 0;
}

/* OP_MOUNT_SETATTR: n[0]=attributes to set, n[1]=to clear, on the mount at
 * s[0] inside the root and every mount below it. */
int op_mount_setattr(struct child_ctx *ctx, const struct pyrunc_op *op)
{
    int fd = resolve_in_root(ctx, op->s[0], O_PATH);
    if (fd < 0)
        return op_fail(ctx, "resolve mount %s in rootfs", op->s[0]);
    struct mount_attr attr = {
        .attr_set = (uint64_t)op->n[0],
        .attr_clr = (uint64_t)op->n[1],
    };
    int r = mount_setattr(fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof(attr));
    int e = errno;
    close(fd);
    if (r < 0) {
        errno = e;
        return op_fail(ctx, "set recursive mount attributes of %s", op->s[0]);
    }
    return 0;
}
