"""criu's TCP network lock in a network namespace the container joined by path.

A dump with --tcp-established locks the network (an iptables chain CRIU that
drops every packet criu did not mark) and, when the namespace outlives the
container (an external one, joined by path), leaves it locked so that the
frozen connections see no packets until the restore.  criu 3.17's restore then
adds its own lock in the same namespace, and its unlock, one script that
deletes a reference and the chain, fails on the second reference: the restored
connections stay behind the lock (runc has this failure too).  At the restore's
"network-unlock" notification, before criu unlocks, pyrunc drops the dump's
extra reference, so criu's own unlock leaves the namespace as it was."""

from __future__ import annotations

import shutil
import subprocess

from runtime.log import log

TOOLS = ("iptables", "ip6tables")
CHAINS = ("INPUT", "OUTPUT")


def drop_dump_lock(netns_path: str) -> None:
    """Remove one `-j CRIU` reference from each chain that holds two or more."""
    nsenter = shutil.which("nsenter")
    if nsenter is None:
        log.warning("nsenter not found: criu's network lock may stay in the namespace")
        return
    for tool in TOOLS:
        if shutil.which(tool) is None:
            continue
        for chain in CHAINS:
            base = [nsenter, f"--net={netns_path}", tool, "-w"]
            listed = subprocess.run(base + ["-S", chain], capture_output=True, text=True)
            refs = sum(1 for line in listed.stdout.splitlines() if line.endswith("-j CRIU"))
            if refs >= 2:
                r = subprocess.run(base + ["-D", chain, "-j", "CRIU"], capture_output=True,
                                   text=True)
                if r.returncode != 0:
                    log.warning(f"{tool} -D {chain} -j CRIU: {r.stderr.strip()}")
