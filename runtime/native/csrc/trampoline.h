/* Shared by the exec trampoline (trampoline.c) and the op that runs it (sealed_exec.c). */
#ifndef PYRUNC_TRAMPOLINE_H
#define PYRUNC_TRAMPOLINE_H

/* argv[0] the runtime gives the trampoline.  It contains a space, which the
 * interpreter path of a #! line never can: a script cannot impersonate us. */
#define PYRUNC_TRAMPOLINE_MAGIC "pyrunc exec-trampoline"

#endif
