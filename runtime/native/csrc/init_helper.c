/*
 * pyrunc-init: the small static program the runtime executes to clone a
 * container process (the init, or a process `exec` adds).
 *
 * Why a program of its own: a clone of the runtime's Python would keep that
 * address space (5 MiB, copied on write) until its last execve, which for an
 * init is after `start`.  A clone of this program maps a few pages.
 *
 * Usage (only the runtime runs it, runtime/native/channel.py):
 *     pyrunc-init PLAN_FD SYNC_FD
 * PLAN_FD holds the plan (plan_wire.c), SYNC_FD is the container process's end of
 * the sync socket, where errors go as they would from the container process.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pyrunc.h"

static int fd_arg(const char *s)
{
    char *end;
    long v = strtol(s, &end, 10);
    return (*s && !*end && v >= 0 && v < 1 << 30) ? (int)v : -1;
}

int main(int argc, char **argv)
{
    int plan_fd = argc == 3 ? fd_arg(argv[1]) : -1;
    int sync_fd = argc == 3 ? fd_arg(argv[2]) : -1;
    if (plan_fd < 0 || sync_fd < 0) {
        fputs("pyrunc-init: the runtime's helper, not a command (pyrunc-init PLAN_FD SYNC_FD)\n",
              stderr);
        return 2;
    }
    const struct pyrunc_plan *plan = pyrunc_plan_map(plan_fd);
    if (!plan || plan->sync_fd != sync_fd) {
        struct pyrunc_msg m = { .type = MSG_ERROR, .op_index = -1, .err = plan ? EINVAL : errno };
        snprintf(m.text, sizeof(m.text), "pyrunc-init: read the plan");
        pyrunc_send_msg(sync_fd, &m, -1);
        return 1;
    }
    pyrunc_launch(plan);
}
