/* The container process joins its v1 cgroups by itself.
 *
 * The runtime writing a pid to cgroup.procs migrates a whole thread group: the
 * kernel takes its global threadgroup lock for writing, and the first writer
 * after an idle moment waits for a full RCU grace period (6-20 ms on a VM).
 * A thread writing "0" to a v1 "tasks" file moves only itself and takes no
 * such lock.  The process is single-threaded here (a clone of the runtime), so
 * moving the thread moves the process.  cgroup2 has no such file: there the
 * process is cloned straight into its cgroup (clone_into() in spawn.c). */
#define _GNU_SOURCE
#include <errno.h>
#include <unistd.h>

#include "pyrunc.h"

/* OP_JOIN_CGROUP: fd is the "tasks" file, opened (and so permission-checked)
 * by the runtime; closed here, the container must not inherit it. */
int op_join_cgroup(struct child_ctx *ctx, const struct pyrunc_op *op)
{
    ssize_t n = write(op->fd, "0", 1);
    int e = errno;
    close(op->fd);
    if (n == 1 || (op->flags & 1))
        return 0;
    errno = n < 0 ? e : EIO;
    return op_fail(ctx, "join the cgroup %s", op->s[0]);
}
