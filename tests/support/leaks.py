"""What a container can leave on the host: used to prove that nothing is left."""

from __future__ import annotations

import os


def cgroup_dirs(parent: str) -> list[str]:
    """Directories under `parent` in every cgroup hierarchy (v1 and unified)."""
    found = []
    base = "/sys/fs/cgroup"
    hierarchies = [os.path.join(base, d) for d in os.listdir(base)]
    if os.path.exists(os.path.join(base, "cgroup.controllers")):
        hierarchies = [base]
    for h in hierarchies:
        top = os.path.join(h, parent.lstrip("/"))
        for dirpath, dirnames, _ in os.walk(top):
            found.extend(os.path.join(dirpath, d) for d in dirnames)
    return found


def remove_cgroup_tree(parent: str) -> None:
    base = "/sys/fs/cgroup"
    hierarchies = [os.path.join(base, d) for d in os.listdir(base)]
    if os.path.exists(os.path.join(base, "cgroup.controllers")):
        hierarchies = [base]  # pure v2: the parent is right below the root
    for h in hierarchies:
        top = os.path.join(h, parent.lstrip("/"))
        for dirpath, _, _ in sorted(os.walk(top), key=lambda t: -len(t[0])):
            try:
                os.rmdir(dirpath)
            except OSError:
                pass


def mounts_mentioning(text: str) -> list[str]:
    with open("/proc/self/mountinfo") as f:
        return [line for line in f if text in line]


def processes_mentioning(text: str) -> list[int]:
    """Pids whose command line contains `text`: a pyrunc container init is a clone of
    the `create` command, so it carries the container id until it execs."""
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit() or int(d) == os.getpid():
            continue
        try:
            with open(f"/proc/{d}/cmdline", "rb") as f:
                cmdline = f.read().decode(errors="replace")
        except OSError:
            continue
        if text in cmdline:
            out.append(int(d))
    return out
