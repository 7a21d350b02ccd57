/* eBPF device programs for cgroup v2 (runtime side, never in the container).
 *
 * cgroup2 has no devices controller: device access is decided by
 * BPF_PROG_TYPE_CGROUP_DEVICE programs attached to the cgroup.  Python builds
 * the instructions from the device rules (runtime/cgroups/v2/devicefilter.py);
 * each function here is one bpf(2) command and returns a value >= 0 or -errno,
 * so the caller can say which step failed and why. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/bpf.h>

#include "bpf.h"

static long sys_bpf(int cmd, union bpf_attr *attr)
{
    return syscall(SYS_bpf, cmd, attr, sizeof(*attr));
}

/* BPF_PROG_LOAD of a cgroup device program; the verifier's log goes to log
 * (when log_size > 0), which helps when the kernel refuses a program.
 * Returns the program fd (close-on-exec) or -errno. */
int pyrunc_bpf_load_device_prog(const struct bpf_insn *insns, unsigned int count,
                                char *log, unsigned int log_size)
{
    static const char license[] = "Apache";
    union bpf_attr attr;

    memset(&attr, 0, sizeof(attr));
    attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
    attr.insns = (uint64_t)(uintptr_t)insns;
    attr.insn_cnt = count;
    attr.license = (uint64_t)(uintptr_t)license;
    if (log && log_size) {
        log[0] = '\0';
        attr.log_buf = (uint64_t)(uintptr_t)log;
        attr.log_size = log_size;
        attr.log_level = 1;
    }
    long fd = sys_bpf(BPF_PROG_LOAD, &attr);
    return fd < 0 ? -errno : (int)fd;
}

/* BPF_PROG_QUERY: the ids of the device programs attached to the cgroup
 * directory cgroup_fd.  ids may hold max entries; *count gets how many are
 * attached (possibly more than max).  0 or -errno. */
int pyrunc_bpf_query_device_progs(int cgroup_fd, uint32_t *ids, unsigned int max,
                                  unsigned int *count)
{
    union bpf_attr attr;

    memset(&attr, 0, sizeof(attr));
    attr.query.target_fd = cgroup_fd;
    attr.query.attach_type = BPF_CGROUP_DEVICE;
    attr.query.prog_ids = (uint64_t)(uintptr_t)ids;
    attr.query.prog_cnt = max;
    if (sys_bpf(BPF_PROG_QUERY, &attr) < 0)
        return -errno;
    *count = attr.query.prog_cnt;
    return 0;
}

/* BPF_PROG_GET_FD_BY_ID: an fd for an attached program (to detach it).
 * fd or -errno. */
int pyrunc_bpf_prog_fd_by_id(uint32_t id)
{
    union bpf_attr attr;

    memset(&attr, 0, sizeof(attr));
    attr.prog_id = id;
    long fd = sys_bpf(BPF_PROG_GET_FD_BY_ID, &attr);
    return fd < 0 ? -errno : (int)fd;
}

/* BPF_PROG_ATTACH of a device program to the cgroup directory cgroup_fd with
 * flags (BPF_F_ALLOW_MULTI: added after the programs already there).
 * 0 or -errno. */
int pyrunc_bpf_attach_device_prog(int cgroup_fd, int prog_fd, unsigned int flags)
{
    union bpf_attr attr;

    memset(&attr, 0, sizeof(attr));
    attr.target_fd = cgroup_fd;
    attr.attach_bpf_fd = prog_fd;
    attr.attach_type = BPF_CGROUP_DEVICE;
    attr.attach_flags = flags;
    return sys_bpf(BPF_PROG_ATTACH, &attr) < 0 ? -errno : 0;
}

/* BPF_PROG_DETACH of one device program from the cgroup directory cgroup_fd.
 * 0 or -errno. */
int pyrunc_bpf_detach_device_prog(int cgroup_fd, int prog_fd)
{
    union bpf_attr attr;

    memset(&attr, 0, sizeof(attr));
    attr.target_fd = cgroup_fd;
    attr.attach_bpf_fd = prog_fd;
    attr.attach_type = BPF_CGROUP_DEVICE;
    return sys_bpf(BPF_PROG_DETACH, &attr) < 0 ? -errno : 0;
}
