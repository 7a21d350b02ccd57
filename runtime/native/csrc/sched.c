/* Scheduling: policy (sched_setattr), I/O priority (ioprio_set), CPU affinity. */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "pyrunc.h"

/* data = struct sched_attr, filled in by the runtime (runtime/process/sched.py). */
int op_sched_setattr(struct child_ctx *ctx, const struct pyrunc_op *op)
{
    if (syscall(SYS_sched_setattr, 0, op->data, 0) < 0)
        return op_fail(ctx, "error setting scheduler");
    return 0;
}

/* n[0]=which (IOPRIO_WHO_*), n[1]=who, n[2]=class and level as the kernel packs them. */
int op_ioprio_set(struct child_ctx *ctx, const struct pyrunc_op *op)
{
    if (syscall(SYS_ioprio_set, (int)op->n[0], (int)op->n[1], (int)op->n[2]) < 0)
        return op_fail(ctx, "failed to set io priority");
    return 0;
}

/* data = CPU mask of len bytes (the kernel's cpumask layout: bit N = CPU N). */
int op_sched_setaffinity(struct child_ctx *ctx, const struct pyrunc_op *op)
{
    if (sched_setaffinity(0, op->len, (const cpu_set_t *)op->data) < 0)
        return op_fail(ctx, "sched_setaffinity");
    return 0;
}
