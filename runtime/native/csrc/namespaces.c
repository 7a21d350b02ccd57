/* Namespaces, session, identity inside a new user namespace, host and domain names. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "pyrunc.h"

int op_setns(struct child_ctx *ctx, const struct pyrunc_op *op)
{
    if (setns(op->fd, (int)op->flags) < 0)
        return op_fail(ctx, "setns %s", op->s[0] ? op->s[0] : "");
    return 0;
}

/* A namespace this process made but is not in: /proc/self/ns/time_for_children
 * after unshare(CLONE_NEWTIME).  Kernels before 6.3 do not move a process into
 * it at execve, only its children: setns does, for a single-threaded one. */
int op_setns_path(struct child_ctx *ctx, const struct pyrunc_op *op)
{
    int fd = open(op->s[0], O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return op_fail(ctx, "open %s", op->s[0]);
    int rc = setns(fd, (int)op->flags);
    int saved = errno;
    close(fd);
    errno = saved;
    if (rc < 0)
        return op_fail(ctx, "setns %s", op->s[0]);
    return 0;
}

int op_unshare(struct child_ctx *ctx, const struct pyrunc_op *op)
{
    if (unshare((int)op->flags) < 0)
        return op_fail(ctx, "unshare 0x%lx", op->flags);
    return 0;
}

int op_setsid(struct child_ctx *ctx, const struct pyrunc_op *op)
{
    (void)op;
    if (setsid() < 0)
        return op_fail(ctx, "setsid");
    return 0;
}

/* Raw syscalls for the ids: glibc's wrappers signal every thread in its copy of
 * the parent's thread list (a raw clone() keeps it) and wait forever for threads
 * that do not exist in this process. */
int op_setresuid(struct child_ctx *ctx, const struct pyrunc_op *op)
{
    uid_t u = (uid_t)op->n[0];
    if (syscall(SYS_setresuid, u, u, u) < 0)
        return op_fail(ctx, "setresuid %u", u);
    return 0;
}

int op_setresgid(struct child_ctx *ctx, const struct pyrunc_op *op)
{
    gid_t g = (gid_t)op->n[0];
    if (syscall(SYS_setresgid, g, g, g) < 0)
        return op_fail(ctx, "setresgid %u", g);
    return 0;
}

/* A new network namespace has only a loopback interface, and it is down. */
int op_loopback_up(struct child_ctx *ctx, const struct pyrunc_op *op)
{
    (void)op;
    struct ifreq ifr;
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return op_fail(ctx, "socket for loopback");
    memset(&ifr, 0, sizeof(ifr));
    strcpy(ifr.ifr_name, "lo");
    if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0) {
        close(fd);
        return op_fail(ctx, "get loopback flags");
    }
    ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
    if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0) {
        close(fd);
        return op_fail(ctx, "bring loopback up");
    }
    close(fd);
    return 0;
}

int op_sethostname(struct child_ctx *ctx, const struct pyrunc_op *op)
{
    if (sethostname(op->s[0], strlen(op->s[0])) < 0)
        return op_fail(ctx, "sethostname %s", op->s[0]);
    return 0;
}

int op_setdomainname(struct child_ctx *ctx, const struct pyrunc_op *op)
{
    if (setdomainname(op->s[0], strlen(op->s[0])) < 0)
        return op_fail(ctx, "setdomainname %s", op->s[0]);
    return 0;
}
