/* Flags of OP_SEAL_TRAMPOLINE and OP_EXEC_SEALED (sealed_exec.c), shared with cdefs. */
#ifndef PYRUNC_SEALED_EXEC_H
#define PYRUNC_SEALED_EXEC_H

/* OP_SEAL_TRAMPOLINE: no trampoline if the program found by OP_LOOKUP carries
 * file capabilities (a non-root process under no_new_privs whose permitted set
 * exceeds its ambient one would lose them across two execs). */
#define PYRUNC_SEAL_UNLESS_FILE_CAPS 1
/* OP_EXEC_SEALED: don't call execveat (the seccomp profile could kill on it). */
#define PYRUNC_EXEC_NO_EXECVEAT 1

#endif
