/* libseccomp's version, for `pyrunc --version` and `features` (the extension only:
 * pyrunc-init does not link libseccomp). */
#include <seccomp.h>

#include "pyrunc.h"

unsigned int pyrunc_libseccomp_version(void)
{
    const struct scmp_version *v = seccomp_version();
    return v ? (v->major << 16) | (v->minor << 8) | v->micro : 0;
}
