/* Flags of OP_JOIN_KEYRING (keyring.c), shared with cdefs. */
#ifndef PYRUNC_KEYRING_H
#define PYRUNC_KEYRING_H

#define PYRUNC_KEYRING_SEARCH_BY_UID 1     /* the keyring's uid may search it */
#define PYRUNC_KEYRING_SEARCH_BY_OTHERS 2  /* anyone may (a user namespace) */

#endif
