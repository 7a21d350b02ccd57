/* Namespaces, session, identity inside a new user namespace, host and domain names. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pyrunc.h"

int op_setns(struct child_ctx *ctx, const struct pyrunc_op *op)
{
    if (setns(op->fd, (int)op->flags) < 0)
        return op_fail(ctx, "setns %s", op->s[0] ? op->s[0] : "");
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

int op_setresuid(struct child_ctx *ctx, const struct pyrunc_op *op)
{
    uid_t u = (uid_t)op->n[0];
    if (setresuid(u, u, u) < 0)
        return op_fail(ctx, "setresuid %u", u);
    return 0;
}

int op_setresgid(struct child_ctx *ctx, const struct pyrunc_op *op)
{
    gid_t g = (gid_t)op->n[0];
    if (setresgid(g, g, g) < 0)
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

/* The order in which a process joins another's namespaces: the user namespace
 * first (it grants the rights to join the others), the mount namespace last
 * but one (it changes the root we open /proc paths from). */
static const struct { int type; const char *name; } join_order[] = {
    { CLONE_NEWUSER, "user" }, { CLONE_NEWIPC, "ipc" }, { CLONE_NEWUTS, "uts" },
    { CLONE_NEWNET, "net" }, { CLONE_NEWPID, "pid" }, { CLONE_NEWCGROUP, "cgroup" },
    { CLONE_NEWTIME, "time" }, { CLONE_NEWNS, "mnt" },
};

/* Run a program inside the namespaces (nstypes, CLONE_NEW* bits) of process
 * `target`, with stdin from stdin_fd.  Used for hooks that the spec runs in
 * the container's namespaces.  Returns the pid of an intermediate child whose
 * exit status is the program's (127 if it could not be started). */
pid_t pyrunc_spawn_in_ns(pid_t target, int nstypes, const char *path, char *const argv[],
                         char *const envp[], int stdin_fd)
{
    int fds[8];
    size_t n = sizeof(join_order) / sizeof(join_order[0]);
    for (size_t i = 0; i < n; i++) {
        fds[i] = -1;
        if (!(nstypes & join_order[i].type))
            continue;
        char p[64];
        snprintf(p, sizeof(p), "/proc/%d/ns/%s", target, join_order[i].name);
        fds[i] = open(p, O_RDONLY | O_CLOEXEC);
        if (fds[i] < 0) {
            int e = errno;
            for (size_t j = 0; j < i; j++)
                if (fds[j] >= 0)
                    close(fds[j]);
            return -e;
        }
    }
    pid_t pid = fork();
    if (pid != 0) {
        int e = errno;
        for (size_t i = 0; i < n; i++)
            if (fds[i] >= 0)
                close(fds[i]);
        return pid < 0 ? -e : pid;
    }
    reset_signals();
    for (size_t i = 0; i < n; i++)
        if (fds[i] >= 0 && setns(fds[i], join_order[i].type) < 0)
            _exit(126);
    /* A pid namespace applies to children only: fork once more. */
    pid_t inner = fork();
    if (inner < 0)
        _exit(126);
    if (inner == 0) {
        /* A hook killed for its timeout takes its program with it. */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (stdin_fd >= 0 && dup2(stdin_fd, 0) < 0)
            _exit(126);
        execve(path, argv, envp);
        _exit(127);
    }
    int status;
    while (waitpid(inner, &status, 0) < 0)
        if (errno != EINTR)
            _exit(126);
    if (WIFSIGNALED(status))
        _exit(128 + WTERMSIG(status));
    _exit(WEXITSTATUS(status));
}
