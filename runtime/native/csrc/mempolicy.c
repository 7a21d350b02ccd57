/* linux.memoryPolicy: the NUMA memory policy the container process starts with
 * (inherited across fork and execve). */
#define _GNU_SOURCE
#include <errno.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "pyrunc.h"

/* OP_SET_MEMPOLICY: n[0]=mode | mode flags, data=nodemask (unsigned long[]),
 * len=number of bits in the mask.  glibc has no wrapper (libnuma does). */
int op_set_mempolicy(struct child_ctx *ctx, const struct pyrunc_op *op)
{
    /* The kernel reads maxnode - 1 bits: pass one more than the mask holds. */
    unsigned long maxnode = op->data ? (unsigned long)op->len + 1 : 0;
    if (syscall(SYS_set_mempolicy, (int)op->n[0], op->data, maxnode) < 0)
        return op_fail(ctx, "set_mempolicy");
    return 0;
}
