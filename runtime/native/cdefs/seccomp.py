"""libseccomp, called from Python in the runtime to compile a filter into BPF
(runtime/process/seccomp.py); the container process only loads the result
(csrc/seccomp.c).  Action values with a return code are macros in seccomp.h,
so small inline functions expose them."""

INCLUDES = """
#include <seccomp.h>

static uint32_t pyrunc_scmp_act_errno(uint32_t e) { return SCMP_ACT_ERRNO(e); }
static uint32_t pyrunc_scmp_act_trace(uint32_t e) { return SCMP_ACT_TRACE(e); }
"""

CDEF = """
unsigned int pyrunc_libseccomp_version(void);

typedef void *scmp_filter_ctx;
typedef uint64_t scmp_datum_t;

enum scmp_compare {
    SCMP_CMP_NE, SCMP_CMP_LT, SCMP_CMP_LE, SCMP_CMP_EQ, SCMP_CMP_GE, SCMP_CMP_GT,
    SCMP_CMP_MASKED_EQ, ...
};

struct scmp_arg_cmp {
    unsigned int arg;
    enum scmp_compare op;
    scmp_datum_t datum_a;
    scmp_datum_t datum_b;
};

enum scmp_filter_attr {
    SCMP_FLTATR_CTL_NNP, SCMP_FLTATR_CTL_OPTIMIZE, ...
};

#define SCMP_ACT_KILL_PROCESS ...
#define SCMP_ACT_KILL_THREAD ...
#define SCMP_ACT_TRAP ...
#define SCMP_ACT_NOTIFY ...
#define SCMP_ACT_LOG ...
#define SCMP_ACT_ALLOW ...
#define __NR_SCMP_ERROR ...

uint32_t pyrunc_scmp_act_errno(uint32_t e);
uint32_t pyrunc_scmp_act_trace(uint32_t e);

unsigned int seccomp_api_get(void);
scmp_filter_ctx seccomp_init(uint32_t def_action);
void seccomp_release(scmp_filter_ctx ctx);
int seccomp_attr_set(scmp_filter_ctx ctx, enum scmp_filter_attr attr, uint32_t value);
uint32_t seccomp_arch_resolve_name(const char *arch_name);
uint32_t seccomp_arch_native(void);
int seccomp_arch_add(scmp_filter_ctx ctx, uint32_t arch_token);
int seccomp_syscall_resolve_name(const char *name);
int seccomp_syscall_resolve_name_arch(uint32_t arch_token, const char *name);
int seccomp_rule_add_array(scmp_filter_ctx ctx, uint32_t action, int syscall,
                           unsigned int arg_cnt, const struct scmp_arg_cmp *arg_array);
int seccomp_export_bpf(const scmp_filter_ctx ctx, int fd);
"""
