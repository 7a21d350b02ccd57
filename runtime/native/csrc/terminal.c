/* Terminals: a pty made inside the container, its master handed over a unix
 * socket (as runc does, with "/dev/ptmx" as the message payload), its slave the
 * process's stdio and controlling terminal. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

#include "pyrunc.h"

/* runc sends the master's file name with it; clients may log it, none parse it. */
static const char PTMX_NAME[] = "/dev/ptmx";

/* Open the container's /dev/ptmx (inside the root when one is open, so that a
 * symlink can't lead outside), unlock the slave and open it through the master
 * (TIOCGPTPEER: no path lookup the container could redirect).  n[0]=1: clear
 * ONLCR now, before the process can read its termios (a foreground relay). */
int op_pty_open(struct child_ctx *ctx, const struct pyrunc_op *op)
{
    int master = ctx->root_fd >= 0 ? resolve_in_root(ctx, PTMX_NAME, O_RDWR | O_NOCTTY)
                                   : open(PTMX_NAME, O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (master < 0)
        return op_fail(ctx, "open %s", PTMX_NAME);
    unsigned int index = 0;
    int unlock = 0;
    int slave = -1;
    if (ioctl(master, TIOCGPTN, &index) < 0 || ioctl(master, TIOCSPTLCK, &unlock) < 0 ||
        (slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC)) < 0) {
        int e = errno;
        close(master);
        errno = e;
        return op_fail(ctx, "set up the pty from %s", PTMX_NAME);
    }
    ctx->pty_master = master;
    ctx->pty_slave = slave;
    ctx->pty_index = index;
    if (op->n[0]) {
        struct termios t;
        if (tcgetattr(slave, &t) < 0)
            return op_fail(ctx, "get the pty's termios");
        t.c_oflag &= ~(tcflag_t)ONLCR;
        if (tcsetattr(slave, TCSANOW, &t) < 0)
            return op_fail(ctx, "clear onlcr on the pty");
    }
    return 0;
}

/* process.consoleSize: n[0]=rows n[1]=columns. */
int op_pty_resize(struct child_ctx *ctx, const struct pyrunc_op *op)
{
    struct winsize ws = { .ws_row = (unsigned short)op->n[0], .ws_col = (unsigned short)op->n[1] };
    if (ioctl(ctx->pty_master, TIOCSWINSZ, &ws) < 0)
        return op_fail(ctx, "set the console size");
    return 0;
}

/* Bind the slave on /dev/console (already created, s[0], resolved in the root). */
int op_pty_mount_console(struct child_ctx *ctx, const struct pyrunc_op *op)
{
    char source[64], target[64];
    int fd = resolve_in_root(ctx, op->s[0], O_PATH | O_NOFOLLOW);
    if (fd < 0)
        return op_fail(ctx, "open %s in rootfs", op->s[0]);
    snprintf(source, sizeof(source), "/dev/pts/%u", ctx->pty_index);
    snprintf(target, sizeof(target), "/proc/self/fd/%d", fd);
    int r = mount(source, target, NULL, MS_BIND, NULL);
    int e = errno;
    close(fd);
    if (r < 0) {
        errno = e;
        return op_fail(ctx, "bind mount %s on %s", source, op->s[0]);
    }
    return 0;
}

/* Send the master over the console socket (fd) with SCM_RIGHTS, then let go of
 * both: the receiver holds the only copy of the master. */
int op_pty_send(struct child_ctx *ctx, const struct pyrunc_op *op)
{
    union {
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } u;
    struct iovec iov = { .iov_base = (void *)PTMX_NAME, .iov_len = sizeof(PTMX_NAME) - 1 };
    struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
                         .msg_control = u.buf, .msg_controllen = sizeof(u.buf) };
    memset(&u, 0, sizeof(u));
    struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &ctx->pty_master, sizeof(int));
    ssize_t n;
    do {
        n = sendmsg(op->fd, &mh, MSG_NOSIGNAL);
    } while (n < 0 && errno == EINTR);
    if (n < 0)
        return op_fail(ctx, "send the pty master over the console socket");
    close(ctx->pty_master);
    ctx->pty_master = -1;
    close(op->fd);
    return 0;
}

/* The slave becomes stdin, stdout and stderr. */
int op_pty_stdio(struct child_ctx *ctx, const struct pyrunc_op *op)
{
    (void)op;
    for (int fd = 0; fd < 3; fd++)
        if (dup3(ctx->pty_slave, fd, 0) < 0)
            return op_fail(ctx, "dup the pty slave to fd %d", fd);
    close(ctx->pty_slave);
    ctx->pty_slave = -1;
    return 0;
}

/* Make stdin (the pty slave) the controlling terminal of our new session. */
int op_setctty(struct child_ctx *ctx, const struct pyrunc_op *op)
{
    (void)op;
    if (ioctl(0, TIOCSCTTY, 0) < 0)
        return op_fail(ctx, "ioctl(setctty)");
    return 0;
}
