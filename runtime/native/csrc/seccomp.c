/* Loading a seccomp filter compiled by the parent (runtime/seccomp.py). */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "pyrunc.h"

int op_seccomp(struct child_ctx *ctx, const struct pyrunc_op *op)
{
    struct sock_fprog prog = {
        .len = (unsigned short)op->len,
        .filter = (struct sock_filter *)op->data,
    };
    long r = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, op->flags, &prog);
    if (r < 0)
        return op_fail(ctx, "load seccomp filter");
    if (op->flags & SECCOMP_FILTER_FLAG_NEW_LISTENER) {
        /* The notify fd goes to the parent, which passes it to listenerPath. */
        struct pyrunc_msg m = { .type = MSG_FD, .op_index = ctx->op_index, .value = 1 };
        int s = pyrunc_send_msg(ctx->sync_fd, &m, (int)r);
        close((int)r);
        if (s < 0) {
            errno = -s;
            return op_fail(ctx, "send seccomp notify fd");
        }
    }
    return 0;
}
