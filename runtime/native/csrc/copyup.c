/* OP_TMPFS_COPYUP: a tmpfs that starts with a copy of the directory it covers
 * (runc's "tmpcopyup" mount option, used by podman --read-only).
 *
 * The destination directory is opened (resolved in the root) before the tmpfs
 * is mounted on it: lookups relative to that fd stay in the covered directory,
 * so the copy reads the image's content from under the new mount.  The walk is
 * fd-relative with O_NOFOLLOW on both sides: a symlink in the image is copied
 * as a symlink and never followed, so nothing outside the rootfs is read or
 * written.  Like runc, the tmpfs is mounted writable, filled, then remounted
 * read-only if asked, and its root takes the mode of the directory it covers. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pyrunc.h"

/* Flags a bind remount applies to the mount itself (the rest are the superblock's). */
#define PER_MOUNT_FLAGS (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME | \
                         MS_NODIRATIME | MS_RELATIME | MS_STRICTATIME | MS_NOSYMFOLLOW)

static int copy_tree(struct child_ctx *ctx, int src, int dst, const char *where);

static int copy_owner_mode(int dir, const char *name, const struct stat *st)
{
    if (fchownat(dir, name, st->st_uid, st->st_gid, AT_SYMLINK_NOFOLLOW) < 0)
        return -1;
    if (S_ISLNK(st->st_mode))
        return 0;  /* a symlink's own mode means nothing */
    /* After the chown, which clears set-id bits. */
    return fchmodat(dir, name, st->st_mode & 07777, 0);
}

static int copy_bytes(int from, int to)
{
    static char buf[65536];  /* the init is single-threaded */
    for (;;) {
        ssize_t n = read(from, buf, sizeof(buf));
        if (n == 0)
            return 0;
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        for (ssize_t off = 0; off < n;) {
            ssize_t w = write(to, buf + off, (size_t)(n - off));
            if (w < 0 && errno != EINTR)
                return -1;
            if (w > 0)
                off += w;
        }
    }
}

/* Close the two fds (-1: none) without losing the errno of the failure being returned. */
static void close_both(int a, int b)
{
    int e = errno;
    if (a >= 0)
        close(a);
    if (b >= 0)
        close(b);
    errno = e;
}

static int copy_file(int src, int dst, const char *name)
{
    /* O_NONBLOCK: should the entry have become a fifo, opening it must not block. */
    int in = openat(src, name, O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
    if (in < 0)
        return -1;
    struct stat st;
    int r = fstat(in, &st);
    if (r == 0 && !S_ISREG(st.st_mode)) {
        errno = EINVAL;  /* replaced since it was listed */
        r = -1;
    }
    int out = r < 0 ? -1 : openat(dst, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
                                  O_CLOEXEC, 0600);
    if (out < 0 || copy_bytes(in, out) < 0)
        r = -1;
    close_both(in, out);
    return r;
}

static int copy_symlink(int src, int dst, const char *name)
{
    char target[PATH_MAX];
    ssize_t n = readlinkat(src, name, target, sizeof(target) - 1);
    if (n < 0)
        return -1;
    target[n] = '\0';
    return symlinkat(target, dst, name);
}

static int copy_dir(struct child_ctx *ctx, int src, int dst, const char *name)
{
    if (mkdirat(dst, name, 0700) < 0)
        return op_fail(ctx, "tmpcopyup: mkdir %s", name);
    int in = openat(src, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (in < 0)
        return op_fail(ctx, "tmpcopyup: open directory %s", name);
    int out = openat(dst, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    int r = out < 0 ? op_fail(ctx, "tmpcopyup: open directory %s", name)
                    : copy_tree(ctx, in, out, name);
    close_both(in, out);
    return r;
}

/* One directory entry; devices, fifos and sockets are recreated with mknod. */
static int copy_entry(struct child_ctx *ctx, int src, int dst, const char *name)
{
    struct stat st;
    if (fstatat(src, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        return op_fail(ctx, "tmpcopyup: stat %s", name);
    int r;
    if (S_ISDIR(st.st_mode)) {
        if (copy_dir(ctx, src, dst, name) < 0)
            return -1;  /* the failure deepest down is the one reported */
        r = 0;
    } else if (S_ISREG(st.st_mode))
        r = copy_file(src, dst, name);
    else if (S_ISLNK(st.st_mode))
        r = copy_symlink(src, dst, name);
    else
        r = mknodat(dst, name, st.st_mode & (S_IFMT | 0777), st.st_rdev);
    if (r < 0 || copy_owner_mode(dst, name, &st) < 0)
        return op_fail(ctx, "tmpcopyup: copy %s", name);
    return 0;
}

/* Copy the entries of directory src into directory dst (both fds stay open). */
static int copy_tree(struct child_ctx *ctx, int src, int dst, const char *where)
{
    int fd = dup(src);  /* closedir closes it; src's offset is shared, so rewind */
    DIR *d = fd < 0 ? NULL : fdopendir(fd);
    if (!d) {
        if (fd >= 0)
            close(fd);
        return op_fail(ctx, "tmpcopyup: read directory %s", where);
    }
    rewinddir(d);
    int r = 0;
    struct dirent *ent;
    errno = 0;
    while (r == 0 && (ent = readdir(d)) != NULL) {
        if (strcmp(ent->d_name, ".") == 0 || strcmp(ent->d_name, "..") == 0)
            continue;
        r = copy_entry(ctx, src, dst, ent->d_name);
        errno = 0;
    }
    if (r == 0 && errno != 0)
        r = op_fail(ctx, "tmpcopyup: read directory %s", where);
    int e = errno;
    closedir(d);
    errno = e;
    return r;
}

/* Mount the tmpfs (writable, to be filled) over the directory behind fd `under`;
 * return an fd of the new tmpfs's root. */
static int mount_tmpfs_over(struct child_ctx *ctx, const struct pyrunc_op *op, int under)
{
    char target[64];
    snprintf(target, sizeof(target), "/proc/self/fd/%d", under);
    if (mount(op->s[0], target, op->s[2], op->flags & ~(unsigned long)MS_RDONLY, op->s[3]) < 0)
        return op_fail(ctx, "mount tmpfs to rootfs %s", op->s[1]);
    int fd = resolve_in_root(ctx, op->s[1], O_RDONLY | O_DIRECTORY);
    if (fd < 0)
        return op_fail(ctx, "open the new tmpfs at %s in rootfs", op->s[1]);
    return fd;
}

static int finish_root(struct child_ctx *ctx, const struct pyrunc_op *op, int under, int top)
{
    struct stat st;
    if (fstat(under, &st) < 0 || fchmod(top, st.st_mode & 07777) < 0)
        return op_fail(ctx, "tmpcopyup: set the mode of %s", op->s[1]);
    if (!(op->flags & MS_RDONLY))
        return 0;
    char target[64];
    snprintf(target, sizeof(target), "/proc/self/fd/%d", top);
    unsigned long flags = MS_REMOUNT | MS_BIND | (op->flags & PER_MOUNT_FLAGS);
    if (mount(NULL, target, NULL, flags, NULL) < 0)
        return op_fail(ctx, "remount %s read-only", op->s[1]);
    return 0;
}

/* s[0]=source s[1]=destination in the root s[2]=fstype s[3]=data, flags=mount flags */
int op_tmpfs_copyup(struct child_ctx *ctx, const struct pyrunc_op *op)
{
    int under = resolve_in_root(ctx, op->s[1], O_RDONLY | O_DIRECTORY);
    if (under < 0)
        return op_fail(ctx, "resolve mount destination %s in rootfs", op->s[1]);
    int top = mount_tmpfs_over(ctx, op, under);
    int r = top < 0 ? -1 : copy_tree(ctx, under, top, op->s[1]);
    if (r == 0)
        r = finish_root(ctx, op, under, top);
    close_both(under, top);
    return r;
}
