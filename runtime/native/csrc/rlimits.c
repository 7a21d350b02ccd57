/* process.rlimits, runtime side: prlimit(2) on the container process from outside
 * (runtime/process/parent.py), so that a user namespace cannot stop it raising a
 * hard limit.  Here rather than Python's resource module: one shared library
 * fewer to load on every create and exec. */
#define _GNU_SOURCE
#include <errno.h>
#include <sys/resource.h>

#include "pyrunc.h"

/* 0, or -errno. */
int pyrunc_prlimit(pid_t pid, int resource, unsigned long long soft, unsigned long long hard)
{
    struct rlimit rl = { .rlim_cur = (rlim_t)soft, .rlim_max = (rlim_t)hard };
    if (prlimit(pid, (__rlimit_resource_t)resource, &rl, NULL) < 0)
        return -errno;
    return 0;
}
