#!/usr/bin/env bash
# The unprivileged user the rootless tests run runtimes as (idempotent; root only):
# a login user with a home, and a range of 65536 subordinate uids and gids in
# /etc/subuid and /etc/subgid for newuidmap/newgidmap (Debian's uidmap).
# Prints the user's name.  PYRUNC_ROOTLESS_USER overrides the name.
set -euo pipefail
user=${PYRUNC_ROOTLESS_USER:-pyruncuser}
if ! id -u "$user" >/dev/null 2>&1; then
    useradd --create-home --user-group --shell /bin/sh "$user"
fi
for f in /etc/subuid /etc/subgid; do
    [ -e "$f" ] || install -m 644 /dev/null "$f"
    if ! grep -q "^$user:" "$f"; then
        # the first 65536-wide slot above every range already handed out
        start=$(awk -F: 'BEGIN { m = 100000 } { e = $2 + $3; if (e > m) m = e } END { print m }' "$f")
        echo "$user:$start:65536" >> "$f"
    fi
done
echo "$user"
