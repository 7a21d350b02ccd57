/* The sync socket between the runtime and the container process, and unix sockets. */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "pyrunc.h"

int pyrunc_socketpair(int fds[2])
{
    return socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) < 0 ? -errno : 0;
}

int pyrunc_send_msg(int fd, const struct pyrunc_msg *msg, int pass_fd)
{
    struct iovec iov = { .iov_base = (void *)msg, .iov_len = sizeof(*msg) };
    union {
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } u;
    struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
    if (pass_fd >= 0) {
        memset(&u, 0, sizeof(u));
        mh.msg_control = u.buf;
        mh.msg_controllen = sizeof(u.buf);
        struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(c), &pass_fd, sizeof(int));
    }
    ssize_t n;
    do {
        n = sendmsg(fd, &mh, MSG_NOSIGNAL);
    } while (n < 0 && errno == EINTR);
    return n < 0 ? -errno : 0;
}

/* Returns 0 on a message, -ETIMEDOUT, -EPIPE when the peer is gone, or -errno. */
int pyrunc_recv_msg(int fd, struct pyrunc_msg *msg, int *recv_fd, int timeout_ms)
{
    struct pollfd p = { .fd = fd, .events = POLLIN };
    int r;
    do {
        r = poll(&p, 1, timeout_ms);
    } while (r < 0 && errno == EINTR);
    if (r < 0)
        return -errno;
    if (r == 0)
        return -ETIMEDOUT;
    union {
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } u;
    struct iovec iov = { .iov_base = msg, .iov_len = sizeof(*msg) };
    struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
                         .msg_control = u.buf, .msg_controllen = sizeof(u.buf) };
    ssize_t n;
    do {
        n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);
    } while (n < 0 && errno == EINTR);
    if (n < 0)
        return -errno;
    if (n == 0)
        return -EPIPE;
    if ((size_t)n != sizeof(*msg))
        return -EPROTO;
    if (recv_fd) {
        *recv_fd = -1;
        struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
        if (c && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
            memcpy(recv_fd, CMSG_DATA(c), sizeof(int));
    }
    msg->text[sizeof(msg->text) - 1] = '\0';
    return 0;
}

static int unix_addr(const char *path, struct sockaddr_un *sa)
{
    memset(sa, 0, sizeof(*sa));
    sa->sun_family = AF_UNIX;
    if (strlen(path) >= sizeof(sa->sun_path))
        return -ENAMETOOLONG;
    strcpy(sa->sun_path, path);
    return 0;
}

int pyrunc_listen_unix(const char *path)
{
    struct sockaddr_un sa;
    int r = unix_addr(path, &sa);
    if (r < 0)
        return r;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 4) < 0) {
        r = -errno;
        close(fd);
        return r;
    }
    return fd;
}

int pyrunc_connect_unix(const char *path)
{
    struct sockaddr_un sa;
    int r = unix_addr(path, &sa);
    if (r < 0)
        return r;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        r = -errno;
        close(fd);
        return r;
    }
    return fd;
}

/* OP_SYNC: tell the parent which sync point we reached and wait for its answer. */
int op_sync(struct child_ctx *ctx, const struct pyrunc_op *op)
{
    struct pyrunc_msg m = { .type = MSG_SYNC, .op_index = ctx->op_index, .value = op->n[0] };
    int r = pyrunc_send_msg(ctx->sync_fd, &m, -1);
    if (r < 0) {
        errno = -r;
        return op_fail(ctx, "sync %lld: send", op->n[0]);
    }
    r = pyrunc_recv_msg(ctx->sync_fd, &m, NULL, -1);
    if (r < 0) {
        errno = -r;
        return op_fail(ctx, "sync %lld: receive", op->n[0]);
    }
    if (m.type != MSG_ACK) {
        errno = ECANCELED;
        return op_fail(ctx, "sync %lld: parent aborted", op->n[0]);
    }
    return 0;
}
