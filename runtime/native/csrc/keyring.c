/* A session keyring of the container's own, as runc gives every container
 * (libcontainer's standard_init_linux.go and setns_init_linux.go): the process
 * does not keep the caller's session keyring and its keys. */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/keyctl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "keyring.h"
#include "pyrunc.h"

/* Key permission bits: ABI of keyctl(2), defined by the kernel's linux/key.h and
 * libkeyutils, not by the uapi headers. */
#ifndef KEY_USR_SEARCH
#define KEY_USR_SEARCH 0x00080000
#endif
#ifndef KEY_OTH_SEARCH
#define KEY_OTH_SEARCH 0x00000008
#endif

/* The permission field of KEYCTL_DESCRIBE's "type;uid;gid;perm;description". */
static int key_perm(long serial, unsigned long *perm)
{
    char desc[512];
    long n = syscall(SYS_keyctl, KEYCTL_DESCRIBE, serial, desc, sizeof(desc) - 1);
    if (n < 0)
        return -1;
    desc[(size_t)n < sizeof(desc) ? (size_t)n : sizeof(desc) - 1] = '\0';
    char *field = desc;
    for (int i = 0; i < 3 && field; i++) {
        field = strchr(field, ';');
        if (field)
            field++;
    }
    if (!field) {
        errno = EINVAL;
        return -1;
    }
    *perm = strtoul(field, NULL, 16);
    return 0;
}

/* Join (or create) the keyring s[0]; with flags (PYRUNC_KEYRING_SEARCH_*) it also
 * becomes searchable by its uid, or by others in a user namespace, so that
 * processes `exec`ed later can join it by name.  No keyrings in this kernel
 * (ENOSYS): carry on without, as runc does; any other refusal is an error. */
int op_join_keyring(struct child_ctx *ctx, const struct pyrunc_op *op)
{
    long serial = syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, op->s[0]);
    if (serial < 0) {
        if (errno == ENOSYS)
            return 0;
        return op_fail(ctx, "unable to join session keyring");
    }
    if (op->flags == 0)
        return 0;
    unsigned long perm;
    if (key_perm(serial, &perm) < 0)
        return op_fail(ctx, "unable to mod keyring permissions");
    if (op->flags & PYRUNC_KEYRING_SEARCH_BY_UID)
        perm |= KEY_USR_SEARCH;
    if (op->flags & PYRUNC_KEYRING_SEARCH_BY_OTHERS)
        perm |= KEY_OTH_SEARCH;
    if (syscall(SYS_keyctl, KEYCTL_SETPERM, serial, perm) < 0)
        return op_fail(ctx, "unable to mod keyring permissions");
    return 0;
}
