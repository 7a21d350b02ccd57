/* Steps only a process joining an existing container needs. */
#define _GNU_SOURCE
#include <errno.h>
#include <sys/prctl.h>

#include "pyrunc.h"

/* Non-dumpable before the first setns: until execve, nothing in the container
 * (even root without CAP_SYS_PTRACE) may ptrace us or open our /proc/<pid>
 * entries, exe and fds included, that still lead to the host (CVE-2019-5736). */
int op_set_dumpable(struct child_ctx *ctx, const struct pyrunc_op *op)
{
    if (prctl(PR_SET_DUMPABLE, (unsigned long)op->n[0], 0, 0, 0) < 0)
        return op_fail(ctx, "prctl(PR_SET_DUMPABLE, %lld)", op->n[0]);
    return 0;
}
