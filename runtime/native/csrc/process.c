/* The last steps before execve: files, cwd, fds, signals, PATH lookup, the start wait. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "pyrunc.h"

/* SIG_DFL through the kernel's own call: glibc's sigaction refuses the two
 * signals it reserves (32, 33), which posix_spawn leaves ignored in pyrunc-init.
 * All zeroes is SIG_DFL, no flags, an empty mask, in every layout of the struct. */
static void default_reserved(int sig)
{
    unsigned long zeroes[8] = { 0 };
    syscall(SYS_rt_sigaction, sig, zeroes, NULL, (size_t)8);
}

int reset_signals(void)
{
    sigset_t none;
    struct sigaction dfl = { .sa_handler = SIG_DFL };
    sigemptyset(&dfl.sa_mask);
    /* Python ignores SIGPIPE and SIGXFSZ, and ignored dispositions survive execve. */
    for (int sig = 1; sig < NSIG; sig++)
        if (sig != SIGKILL && sig != SIGSTOP && sigaction(sig, &dfl, NULL) < 0)
            default_reserved(sig);
    sigemptyset(&none);
    return sigprocmask(SIG_SETMASK, &none, NULL);
}

int op_write_file(struct child_ctx *ctx, const struct pyrunc_op *op)
{
    int fd = open(op->s[0], O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return op_fail(ctx, "open %s", op->s[0]);
    size_t len = strlen(op->s[1]);
    ssize_t n = write(fd, op->s[1], len);
    int e = errno;
    close(fd);
    if (n < 0 || (size_t)n != len) {
        errno = n < 0 ? e : EIO;
        return op_fail(ctx, "write %s", op->s[0]);
    }
    return 0;
}

/* After the chdir: a cwd outside the root (CVE-2024-21626: a /proc/self/fd/N
 * magic link leading out) makes getcwd answer "(unreachable)...". */
int check_cwd_inside(struct child_ctx *ctx)
{
    char buf[4096];
    if (getcwd(buf, sizeof(buf)) == NULL || buf[0] != '/') {
        errno = EPERM;
        return op_fail(ctx, "current working directory is outside of container mount namespace root");
    }
    return 0;
}

/* chdir through the root so that neither a symlink nor a leaked fd
 * (/proc/self/fd/N) can put the process outside its root (CVE-2024-21626). */
int op_chdir(struct child_ctx *ctx, const struct pyrunc_op *op)
{
    if (ctx->root_fd >= 0) {
        int fd = resolve_in_root(ctx, op->s[0], O_PATH | O_DIRECTORY);
        if (fd < 0)
            return op_fail(ctx, "chdir to cwd (\"%s\") set in config.json", op->s[0]);
        int r = fchdir(fd);
        int e = errno;
        close(fd);
        if (r < 0) {
            errno = e;
            return op_fail(ctx, "chdir to cwd (\"%s\") set in config.json", op->s[0]);
        }
    } else if (chdir(op->s[0]) < 0) {
        return op_fail(ctx, "chdir to cwd (\"%s\") set in config.json", op->s[0]);
    }
    return check_cwd_inside(ctx);
}

/* Every fd from n[0] up is closed at execve: only stdio and --preserve-fds pass. */
int op_close_fds(struct child_ctx *ctx, const struct pyrunc_op *op)
{
    if (syscall(SYS_close_range, (unsigned int)op->n[0], ~0U, CLOSE_RANGE_CLOEXEC) < 0)
        return op_fail(ctx, "close_range");
    return 0;
}

static const char *env_get(char *const envp[], const char *name)
{
    size_t n = strlen(name);
    for (; envp && *envp; envp++)
        if (strncmp(*envp, name, n) == 0 && (*envp)[n] == '=')
            return *envp + n + 1;
    return NULL;
}

static int is_executable(const char *path)
{
    struct stat st;
    if (stat(path, &st) < 0)
        return -1;
    if (S_ISDIR(st.st_mode)) {
        errno = EACCES;
        return -1;
    }
    return faccessat(AT_FDCWD, path, X_OK, AT_EACCESS);
}

/* Resolve argv[0] against the container's $PATH now, so that a missing
 * binary is a `create` error rather than a silent failure at `start`. */
int op_lookup(struct child_ctx *ctx, const struct pyrunc_op *op)
{
    const char *name = op->v[0][0];
    if (strchr(name, '/')) {
        if (is_executable(name) < 0)
            return op_fail(ctx, "exec: \"%s\": stat %s", name, name);
        ctx->exec_path = name;
        return 0;
    }
    const char *path = env_get(op->v[1], "PATH");
    int last = ENOENT;
    while (path && *path) {
        const char *end = strchr(path, ':');
        size_t len = end ? (size_t)(end - path) : strlen(path);
        if (len == 0)
            len = 0; /* an empty element means the current directory */
        int n = snprintf(ctx->exec_buf, sizeof(ctx->exec_buf), "%.*s%s%s", (int)len, path,
                         len ? "/" : "", name);
        if (n > 0 && (size_t)n < sizeof(ctx->exec_buf)) {
            if (is_executable(ctx->exec_buf) == 0) {
                ctx->exec_path = ctx->exec_buf;
                return 0;
            }
            if (errno != ENOENT && errno != ENOTDIR)
                last = errno;
        }
        path = end ? end + 1 : NULL;
    }
    errno = last;
    if (last == ENOENT) {
        op_fail(ctx, "exec: \"%s\": executable file not found in $PATH", name);
        errno = 0; /* the message says it all */
        return -1;
    }
    return op_fail(ctx, "exec: \"%s\"", name);
}

int op_clear_pdeathsig(struct child_ctx *ctx, const struct pyrunc_op *op)
{
    (void)op;
    if (prctl(PR_SET_PDEATHSIG, 0) < 0)
        return op_fail(ctx, "clear parent death signal");
    return 0;
}

/* Block until `pyrunc start` connects to the listening socket and says go. */
int op_wait_start(struct child_ctx *ctx, const struct pyrunc_op *op)
{
    for (;;) {
        int conn = accept4(op->fd, NULL, NULL, SOCK_CLOEXEC);
        if (conn < 0) {
            if (errno == EINTR)
                continue;
            return op_fail(ctx, "wait for start");
        }
        char c = 0;
        ssize_t n;
        do {
            n = read(conn, &c, 1);
        } while (n < 0 && errno == EINTR);
        if (n == 1 && c == 'g') {
            close(op->fd);
            ctx->conn_fd = conn;
            return 0;
        }
        close(conn); /* a probe, or a start that gave up: keep waiting */
    }
}

int op_exec(struct child_ctx *ctx, const struct pyrunc_op *op)
{
    const char *path = ctx->exec_path ? ctx->exec_path : op->v[0][0];
    execve(path, op->v[0], op->v[1]);
    return op_fail(ctx, "exec %s", path);
}
