/* eBPF device programs for cgroup v2 (csrc/bpf.c): one bpf(2) command each,
 * returning a value >= 0 or -errno. */
#ifndef PYRUNC_BPF_H
#define PYRUNC_BPF_H

#include <stdint.h>
#include <linux/bpf.h>

int pyrunc_bpf_load_device_prog(const struct bpf_insn *insns, unsigned int count,
                                char *log, unsigned int log_size);
int pyrunc_bpf_query_device_progs(int cgroup_fd, uint32_t *ids, unsigned int max,
                                  unsigned int *count);
int pyrunc_bpf_prog_fd_by_id(uint32_t id);
int pyrunc_bpf_attach_device_prog(int cgroup_fd, int prog_fd, unsigned int flags);
int pyrunc_bpf_detach_device_prog(int cgroup_fd, int prog_fd);

#endif
