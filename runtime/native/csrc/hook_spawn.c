/* Start an OCI hook: fork, join another process's namespaces if asked, set
 * stdio and cwd, execve.  The runtime (Python) writes the state, waits and
 * enforces the timeout; this file only gets the program started. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pyrunc.h"

extern char **environ;

/* Join order: the user namespace first (it grants the rights for the others). */
static const struct { int type; const char *name; } ns_order[] = {
    { CLONE_NEWUSER, "user" }, { CLONE_NEWIPC, "ipc" }, { CLONE_NEWUTS, "uts" },
    { CLONE_NEWNET, "net" }, { CLONE_NEWPID, "pid" }, { CLONE_NEWCGROUP, "cgroup" },
    { CLONE_NEWTIME, "time" }, { CLONE_NEWNS, "mnt" },
};
#define N_NS (sizeof(ns_order) / sizeof(ns_order[0]))

/* Tell the runtime which step failed, then give up. */
static void hook_die(const struct pyrunc_hook *h, int step)
{
    int report[2] = { step, errno };
    if (write(h->err_fd, report, sizeof(report)) < 0) { /* the exit status still says it */ }
    _exit(127);
}

#define MAX_CGROUPS 32

/* Open the listed cgroup.procs files (host paths: before setns). */
static void open_cgroups(const struct pyrunc_hook *h, int fds[MAX_CGROUPS + 1])
{
    int n = 0;
    for (const char *const *p = h->cgroup_procs; p && *p && n < MAX_CGROUPS; p++) {
        fds[n] = open(*p, O_WRONLY | O_CLOEXEC);
        if (fds[n++] < 0)
            hook_die(h, PYRUNC_HOOK_STEP_CGROUP);
    }
    fds[n] = -1;
}

/* Move ourselves into those cgroups (writing "0" moves the writer). */
static void enter_cgroups(const struct pyrunc_hook *h, int fds[])
{
    for (int i = 0; fds[i] >= 0; i++) {
        if (write(fds[i], "0", 1) != 1)
            hook_die(h, PYRUNC_HOOK_STEP_CGROUP);
        close(fds[i]);
    }
}

/* The waiter of a hook in a joined pid namespace: the runtime's SIGTERM (the
 * timeout) kills the hook, which the waiter then reaps.  Killing the waiter
 * instead would hand the hook to the host's init, which may be slow to reap it,
 * and the container's pid namespace can't go before it is. */
static volatile pid_t hook_pid;

static void kill_hook(int sig)
{
    (void)sig;
    if (hook_pid > 0)
        kill(hook_pid, SIGKILL);
}

/* Open target's namespace `name` unless it is the one we are in already. */
static int open_ns(pid_t target, const char *name)
{
    char path[64], self[64];
    struct stat a, b;
    snprintf(path, sizeof(path), "/proc/%d/ns/%s", target, name);
    snprintf(self, sizeof(self), "/proc/self/ns/%s", name);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    if (fstat(fd, &a) == 0 && stat(self, &b) == 0 && a.st_ino == b.st_ino && a.st_dev == b.st_dev) {
        close(fd);
        return -EEXIST; /* already there: nothing to join */
    }
    return fd;
}

/* startContainer hooks run under the container's filter, as runc's (its init runs
 * them after loading it): loaded last, so that only the execve meets it. */
static void load_filter(const struct pyrunc_hook *h)
{
    if (!h->seccomp)
        return;
    struct sock_fprog prog = {
        .len = (unsigned short)h->seccomp_len,
        .filter = (struct sock_filter *)h->seccomp,
    };
    if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, h->seccomp_flags, &prog) < 0)
        hook_die(h, PYRUNC_HOOK_STEP_SECCOMP);
}

static void hook_exec(const struct pyrunc_hook *h, int watch_parent)
{
    int fds[3];
    if (watch_parent) {
        reset_signals(); /* the waiter's SIGTERM handler and mask */
        /* Killing the waiting parent (timeout) must take the hook with it. */
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
            hook_die(h, PYRUNC_HOOK_STEP_FORK);
        /* The parent is outside our pid namespace (getppid() says 0) until it
         * dies and we are handed to the namespace's init. */
        if (getppid() != 0)
            _exit(137);
    }
    if (h->cwd && chdir(h->cwd) < 0)
        hook_die(h, PYRUNC_HOOK_STEP_CHDIR);
    /* Move stdio out of 0..2 first, so that dup2 can't clobber one with another. */
    for (int i = 0; i < 3; i++) {
        fds[i] = fcntl(h->stdio[i], F_DUPFD_CLOEXEC, 10);
        if (fds[i] < 0)
            hook_die(h, PYRUNC_HOOK_STEP_STDIO);
    }
    for (int i = 0; i < 3; i++)
        if (dup2(fds[i], i) < 0)
            hook_die(h, PYRUNC_HOOK_STEP_STDIO);
    if (syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
        hook_die(h, PYRUNC_HOOK_STEP_STDIO);
    load_filter(h);
    execve(h->path, h->argv, h->envp ? h->envp : environ);
    hook_die(h, PYRUNC_HOOK_STEP_EXEC);
}

pid_t pyrunc_spawn_hook(const struct pyrunc_hook *h)
{
    int fds[N_NS];
    int joins_pid = 0;
    for (size_t i = 0; i < N_NS; i++) {
        fds[i] = -1;
        if (!h->ns_pid || !(h->nstypes & ns_order[i].type))
            continue;
        int fd = open_ns(h->ns_pid, ns_order[i].name);
        if (fd == -EEXIST)
            continue;
        if (fd < 0) {
            for (size_t j = 0; j < i; j++)
                if (fds[j] >= 0)
                    close(fds[j]);
            return fd;
        }
        fds[i] = fd;
        if (ns_order[i].type == CLONE_NEWPID)
            joins_pid = 1;
    }
    pid_t pid = fork();
    if (pid != 0) {
        int e = errno;
        for (size_t i = 0; i < N_NS; i++)
            if (fds[i] >= 0)
                close(fds[i]);
        return pid < 0 ? -e : pid;
    }
    reset_signals();
    int cgroups[MAX_CGROUPS + 1];
    open_cgroups(h, cgroups);
    for (size_t i = 0; i < N_NS; i++)
        if (fds[i] >= 0 && setns(fds[i], ns_order[i].type) < 0)
            hook_die(h, PYRUNC_HOOK_STEP_SETNS);
    if (!joins_pid) {
        enter_cgroups(h, cgroups);
        hook_exec(h, 0);
    }
    /* A joined pid namespace applies to children only: fork once more, and
     * pass the hook's exit status on (128+N for a signal, like a shell).  Only
     * the hook enters the container's cgroups: killing what is in them must
     * not kill its waiter (see kill_hook). */
    sigset_t term, old;
    sigemptyset(&term);
    sigaddset(&term, SIGTERM);
    sigprocmask(SIG_BLOCK, &term, &old);
    struct sigaction sa = { .sa_handler = kill_hook };
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    pid_t inner = fork();
    if (inner < 0)
        hook_die(h, PYRUNC_HOOK_STEP_FORK);
    if (inner == 0) {
        enter_cgroups(h, cgroups);
        hook_exec(h, 1);
    }
    hook_pid = inner;
    /* The waiter never execs: drop every fd of the runtime it inherited (a
     * killed `start` would otherwise leave its lock on the state dir held). */
    if (h->err_fd > 3)
        syscall(SYS_close_range, 3U, (unsigned int)h->err_fd - 1, 0U);
    syscall(SYS_close_range, (unsigned int)h->err_fd + 1, ~0U, 0U);
    sigprocmask(SIG_SETMASK, &old, NULL);
    int status;
    while (waitpid(inner, &status, 0) < 0)
        if (errno != EINTR)
            hook_die(h, PYRUNC_HOOK_STEP_FORK);
    if (WIFSIGNALED(status))
        _exit(128 + WTERMSIG(status));
    _exit(WEXITSTATUS(status));
}
