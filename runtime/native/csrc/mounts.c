/* Mounts, resolved inside the container's root, and the switch to that root. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "pyrunc.h"

/* Open `path` as if the root were the container's rootfs: ".." and symlinks
 * (absolute or relative) can't leave it, and /proc magic links are refused. */
int resolve_in_root(struct child_ctx *ctx, const char *path, int flags)
{
    struct open_how how = {
        .flags = (unsigned long long)(flags | O_CLOEXEC),
        .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
    };
    while (*path == '/')
        path++;
    if (*path == '\0')
        path = ".";
    /* EAGAIN: a mount or rename elsewhere on the host raced the lookup (the
     * kernel asks callers to retry), common while other containers start. */
    for (int attempt = 0;; attempt++) {
        int fd = (int)syscall(SYS_openat2, ctx->root_fd, path, &how, sizeof(how));
        if (fd >= 0 || errno != EAGAIN || attempt == 32)
            return fd;
    }
}

static void fd_path(char *buf, size_t len, int fd)
{
    snprintf(buf, len, "/proc/self/fd/%d", fd);
}

int op_open_root(struct child_ctx *ctx, const struct pyrunc_op *op)
{
    if (ctx->root_fd >= 0)
        close(ctx->root_fd);
    ctx->root_fd = open(op->s[0], O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (ctx->root_fd < 0)
        return op_fail(ctx, "open rootfs %s", op->s[0]);
    return 0;
}

/* Split "a/b/c" into its parent "a/b" and base "c" (in buf). */
static const char *split_parent(const char *path, char *buf, size_t len, const char **base)
{
    snprintf(buf, len, "%s", path);
    size_t n = strlen(buf);
    while (n > 1 && buf[n - 1] == '/')
        buf[--n] = '\0';
    char *slash = strrchr(buf, '/');
    if (!slash) {
        *base = buf;
        return "";
    }
    *slash = '\0';
    *base = slash + 1;
    return buf;
}

/* 0 if path is a directory inside the root, else -1 and errno. */
static int dir_in_root(struct child_ctx *ctx, const char *path)
{
    int fd = resolve_in_root(ctx, path, O_PATH | O_DIRECTORY);
    if (fd < 0)
        return -1;
    close(fd);
    return 0;
}

/* mkdir name in the directory parent (resolved in the root); it may exist. */
static int mkdir_in(struct child_ctx *ctx, const char *parent, const char *name, mode_t mode)
{
    int dir = resolve_in_root(ctx, *parent ? parent : "/", O_PATH | O_DIRECTORY);
    if (dir < 0)
        return -1;
    int r = mkdirat(dir, name, mode);
    int e = errno;
    close(dir);
    if (r < 0 && e != EEXIST) {
        errno = e;
        return -1;
    }
    return 0;
}

/* mkdir -p inside the root; every component is resolved in the root first. */
static int mkdir_p_in_root(struct child_ctx *ctx, const char *path, mode_t mode)
{
    /* Mostly it exists already (/proc, /dev, /sys in any rootfs): one lookup. */
    if (dir_in_root(ctx, path) == 0)
        return 0;
    /* Else mostly only its last component is missing (/sys/fs/cgroup/<each
     * hierarchy>, /dev/pts in a fresh tmpfs): one mkdirat in its parent. */
    if (errno == ENOENT) {
        char buf[4096];
        const char *base;
        const char *parent = split_parent(path, buf, sizeof(buf), &base);
        if (mkdir_in(ctx, parent, base, mode) == 0)
            return dir_in_root(ctx, path);
    }
    /* A deeper part is missing: every component from the root. */
    char partial[4096];
    partial[0] = '\0';
    size_t len = 0;
    const char *p = path;
    while (*p) {
        while (*p == '/')
            p++;
        if (!*p)
            break;
        const char *end = strchr(p, '/');
        size_t clen = end ? (size_t)(end - p) : strlen(p);
        if (len + clen + 2 >= sizeof(partial)) {
            errno = ENAMETOOLONG;
            return -1;
        }
        char name[256];
        if (clen >= sizeof(name)) {
            errno = ENAMETOOLONG;
            return -1;
        }
        memcpy(name, p, clen);
        name[clen] = '\0';
        if (mkdir_in(ctx, partial, name, mode) < 0)
            return -1;
        partial[len++] = '/';
        memcpy(partial + len, name, clen);
        len += clen;
        partial[len] = '\0';
        p += clen;
    }
    return dir_in_root(ctx, path);
}

int op_mkdir_in_root(struct child_ctx *ctx, const struct pyrunc_op *op)
{
    if (mkdir_p_in_root(ctx, op->s[0], (mode_t)op->n[0]) < 0)
        return op_fail(ctx, "mkdir %s in rootfs", op->s[0]);
    return 0;
}

/* Create an empty file to bind-mount a file onto (parents created too). */
int op_mkfile_in_root(struct child_ctx *ctx, const struct pyrunc_op *op)
{
    int fd = resolve_in_root(ctx, op->s[0], O_PATH);
    if (fd >= 0) {
        close(fd);
        return 0;
    }
    char buf[4096];
    const char *base;
    const char *parent = split_parent(op->s[0], buf, sizeof(buf), &base);
    if (mkdir_p_in_root(ctx, parent, 0755) < 0)
        return op_fail(ctx, "mkdir %s in rootfs", parent);
    int dir = resolve_in_root(ctx, parent, O_PATH | O_DIRECTORY);
    if (dir < 0)
        return op_fail(ctx, "open %s in rootfs", parent);
    fd = openat(dir, base, O_CREAT | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644);
    int e = errno;
    close(dir);
    if (fd < 0) {
        errno = e;
        return op_fail(ctx, "create %s in rootfs", op->s[0]);
    }
    close(fd);
    return 0;
}

int op_mount(struct child_ctx *ctx, const struct pyrunc_op *op)
{
    if (mount(op->s[0], op->s[1], op->s[2], op->flags, op->s[3]) < 0)
        return op_fail(ctx, "mount %s to %s (type %s)", op->s[0] ? op->s[0] : "none",
                       op->s[1], op->s[2] ? op->s[2] : "none");
    return 0;
}

int op_mount_in_root(struct child_ctx *ctx, const struct pyrunc_op *op)
{
    char target[64];
    int fd = resolve_in_root(ctx, op->s[1], O_PATH);
    if (fd < 0)
        return op_fail(ctx, "resolve mount destination %s in rootfs", op->s[1]);
    fd_path(target, sizeof(target), fd);
    int r = mount(op->s[0], target, op->s[2], op->flags, op->s[3]);
    int e = errno;
    close(fd);
    if (r < 0) {
        errno = e;
        return op_fail(ctx, "mount %s to rootfs %s (type %s)", op->s[0] ? op->s[0] : "none",
                       op->s[1], op->s[2] ? op->s[2] : "none");
    }
    return 0;
}

/* A remount must keep the locked flags of the existing mount (nosuid, nodev,
 * noexec, ...), or the kernel refuses it inside a user namespace. */
static unsigned long existing_flags(const char *path)
{
    struct statvfs st;
    unsigned long f = 0;
    if (statvfs(path, &st) < 0)
        return 0;
    if (st.f_flag & ST_NOSUID)
        f |= MS_NOSUID;
    if (st.f_flag & ST_NODEV)
        f |= MS_NODEV;
    if (st.f_flag & ST_NOEXEC)
        f |= MS_NOEXEC;
    if (st.f_flag & ST_NOATIME)
        f |= MS_NOATIME;
    if (st.f_flag & ST_NODIRATIME)
        f |= MS_NODIRATIME;
    if (st.f_flag & ST_RELATIME)
        f |= MS_RELATIME;
    return f;
}

int op_remount(struct child_ctx *ctx, const struct pyrunc_op *op)
{
    unsigned long flags = op->flags | MS_REMOUNT | existing_flags(op->s[1]);
    if (mount(NULL, op->s[1], NULL, flags, NULL) < 0)
        return op_fail(ctx, "remount %s", op->s[1]);
    return 0;
}

/* pivot_root(".", ".") then detach the old root stacked underneath. */
int op_pivot_root(struct child_ctx *ctx, const struct pyrunc_op *op)
{
    int oldroot = open("/", O_DIRECTORY | O_RDONLY | O_CLOEXEC);
    if (oldroot < 0)
        return op_fail(ctx, "open old root");
    int newroot = open(op->s[0], O_DIRECTORY | O_RDONLY | O_CLOEXEC);
    if (newroot < 0) {
        close(oldroot);
        return op_fail(ctx, "open new root %s", op->s[0]);
    }
    int r = -1;
    if (fchdir(newroot) < 0)
        op_fail(ctx, "chdir to new root");
    else if (syscall(SYS_pivot_root, ".", ".") < 0)
        op_fail(ctx, "pivot_root %s", op->s[0]);
    else if (fchdir(oldroot) < 0)
        op_fail(ctx, "chdir to old root");
    else if (mount(NULL, ".", NULL, MS_SLAVE | MS_REC, NULL) < 0)
        op_fail(ctx, "make old root rslave");
    else if (umount2(".", MNT_DETACH) < 0)
        op_fail(ctx, "unmount old root");
    else if (chdir("/") < 0)
        op_fail(ctx, "chdir /");
    else
        r = 0;
    int e = errno;
    close(oldroot);
    close(newroot);
    errno = e;
    return r;
}

/* --no-pivot: move the rootfs mount over / and chroot into it. */
int op_chroot(struct child_ctx *ctx, const struct pyrunc_op *op)
{
    if (chdir(op->s[0]) < 0)
        return op_fail(ctx, "chdir %s", op->s[0]);
    /* Without a mount namespace of its own (flags 1) nothing may be moved: the
     * mounts are the host's. */
    if (!(op->flags & 1) && mount(op->s[0], "/", NULL, MS_MOVE, NULL) < 0)
        return op_fail(ctx, "move rootfs to /");
    if (chroot(".") < 0)
        return op_fail(ctx, "chroot");
    if (chdir("/") < 0)
        return op_fail(ctx, "chdir /");
    return 0;
}

/* --no-pivot leaves the host's mounts in the container's mount namespace, under the
 * chroot; a full procfs or sysfs among them would let the container mount a fresh,
 * unmasked one (the kernel allows that when one is fully visible).  Detach it, its
 * umount kept from the host by making it a slave first; cover it where the kernel
 * refuses the umount.  Gone already (a parent was detached): nothing to do. */
int op_hide_mount(struct child_ctx *ctx, const struct pyrunc_op *op)
{
    if (mount(NULL, op->s[0], NULL, MS_SLAVE | MS_REC, NULL) < 0) {
        if (errno == ENOENT)
            return 0;
        return op_fail(ctx, "make %s a slave mount", op->s[0]);
    }
    if (umount2(op->s[0], MNT_DETACH) == 0)
        return 0;
    if (errno != EINVAL && errno != EPERM)
        return op_fail(ctx, "unmount %s", op->s[0]);
    if (mount("tmpfs", op->s[0], "tmpfs", 0, NULL) < 0)
        return op_fail(ctx, "cover %s with a tmpfs", op->s[0]);
    return 0;
}

/* The container's /dev/null, checked to be the null device: an image can make
 * it a symlink or another file, and masking with that would expose the file
 * (CVE-2025-31133).  Returns a detached clone of it, ready for move_mount. */
static int null_device_tree(struct child_ctx *ctx)
{
    int fd = open("/dev/null", O_PATH | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return op_fail(ctx, "open /dev/null to mask paths");
    struct stat st;
    if (fstat(fd, &st) < 0) {
        close(fd);
        return op_fail(ctx, "stat /dev/null");
    }
    if (!S_ISCHR(st.st_mode) || st.st_rdev != makedev(1, 3)) {
        close(fd);
        errno = EPERM;
        return op_fail(ctx, "/dev/null in the container is not the null device");
    }
    int tree = open_tree(fd, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
    int e = errno;
    close(fd);
    errno = e;
    if (tree < 0)
        return op_fail(ctx, "clone /dev/null");
    return tree;
}

/* Files are masked with /dev/null, directories with an empty read-only tmpfs. */
int op_mask_path(struct child_ctx *ctx, const struct pyrunc_op *op)
{
    struct stat st;
    if (stat(op->s[0], &st) < 0)
        return errno == ENOENT ? 0 : op_fail(ctx, "mask path %s", op->s[0]);
    if (S_ISDIR(st.st_mode)) {
        if (mount("tmpfs", op->s[0], "tmpfs", MS_RDONLY, op->s[1]) < 0)
            return op_fail(ctx, "mask path %s", op->s[0]);
        return 0;
    }
    int tree = null_device_tree(ctx);
    if (tree < 0)
        return -1;
    int r = move_mount(tree, "", AT_FDCWD, op->s[0], MOVE_MOUNT_F_EMPTY_PATH);
    int e = errno;
    close(tree);
    errno = e;
    if (r < 0)
        return op_fail(ctx, "mask path %s", op->s[0]);
    return 0;
}

int op_readonly_path(struct child_ctx *ctx, const struct pyrunc_op *op)
{
    if (mount(op->s[0], op->s[0], NULL, MS_BIND | MS_REC, NULL) < 0) {
        if (errno == ENOENT)
            return 0;
        return op_fail(ctx, "bind %s read-only", op->s[0]);
    }
    unsigned long flags = MS_BIND | MS_REMOUNT | MS_RDONLY | existing_flags(op->s[0]);
    if (mount(NULL, op->s[0], NULL, flags, NULL) < 0)
        return op_fail(ctx, "remount %s read-only", op->s[0]);
    return 0;
}
