/* The sync socket between the runtime and the container process, and unix sockets. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
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

/* A path too long for sun_path (Docker's --root plus a 64-hex id) is reached
 * through /proc/self/fd/<fd of its directory>/<name>; *dirfd is then set. */
static int unix_addr(const char *path, struct sockaddr_un *sa, int *dirfd)
{
    memset(sa, 0, sizeof(*sa));
    sa->sun_family = AF_UNIX;
    *dirfd = -1;
    if (strlen(path) < sizeof(sa->sun_path)) {
        strcpy(sa->sun_path, path);
        return 0;
    }
    const char *slash = strrchr(path, '/');
    if (!slash || strlen(slash) > 64)
        return -ENAMETOOLONG;
    char dir[4096];
    size_t n = (size_t)(slash - path);
    if (n >= sizeof(dir))
        return -ENAMETOOLONG;
    memcpy(dir, path, n);
    dir[n] = '\0';
    *dirfd = open(n ? dir : "/", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (*dirfd < 0)
        return -errno;
    snprintf(sa->sun_path, sizeof(sa->sun_path), "/proc/self/fd/%d%s", *dirfd, slash);
    return 0;
}

/* socket + bind/listen or connect; returns the fd or -errno. */
static int unix_socket(const char *path, int do_listen)
{
    struct sockaddr_un sa;
    int dirfd;
    int r = unix_addr(path, &sa, &dirfd);
    if (r < 0)
        return r;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        r = -errno;
    } else if (do_listen ? (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 4) < 0)
                         : connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        r = -errno;
        close(fd);
    } else {
        r = fd;
    }
    if (dirfd >= 0)
        close(dirfd);
    return r;
}

int pyrunc_listen_unix(const char *path)
{
    return unix_socket(path, 1);
}

int pyrunc_connect_unix(const char *path)
{
    return unix_socket(path, 0);
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
