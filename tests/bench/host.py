"""The host side of the bench: which runtimes, crun's hugetlb binding, and proof of cleanup."""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEFAULT_RUNTIMES = {
    "pyrunc": os.path.join(REPO, ".venv", "bin", "pyrunc"),
    "runc": shutil.which("runc") or "/usr/sbin/runc",
    "crun": shutil.which("crun") or "/usr/bin/crun",
}
CGROUP_ROOT = "/sys/fs/cgroup"
UNIFIED_CONTROLLERS = "/sys/fs/cgroup/unified/cgroup.controllers"
HUGETLB_V1 = "/sys/fs/cgroup/hugetlb"


def resolve_runtimes(specs: list[str]) -> dict[str, str]:
    """NAME=PATH, or a bare NAME of a default runtime; none given: every default found."""
    if not specs:
        return {n: p for n, p in DEFAULT_RUNTIMES.items() if os.path.exists(p)}
    out = {}
    for spec in specs:
        name, _, path = spec.partition("=")
        path = path or DEFAULT_RUNTIMES.get(name, "")
        if not path or not os.path.exists(path):
            raise SystemExit(f"bench: no binary for runtime {name!r} (give NAME=PATH)")
        out[name] = os.path.abspath(path)
    return out


def version(path: str) -> str:
    p = subprocess.run([path, "--version"], capture_output=True, text=True)
    return (p.stdout.strip().splitlines() or ["?"])[0]


def hugetlb_on_cgroup2() -> bool:
    try:
        with open(UNIFIED_CONTROLLERS) as f:
            return "hugetlb" in f.read().split()
    except OSError:
        return False


class HugetlbBusy(RuntimeError):
    pass


def lock_hugetlb() -> int:
    """One binder of hugetlb at a time: a second bench must not release it under the first.
    The lock is on /sys/fs/cgroup itself, so that no lock file is left anywhere."""
    fd = os.open(CGROUP_ROOT, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise HugetlbBusy("another bench binds hugetlb for crun right now "
                          f"(it holds a lock on {CGROUP_ROOT})") from None
    return fd


def bind_hugetlb_for_crun() -> bool:
    """Bind hugetlb to v1 if cgroup2 holds it (crun refuses a hybrid host otherwise).

    Raises HugetlbBusy when it cannot be bound: the kernel only moves a controller
    that no cgroup2 subtree_control enables (someone else may be using it)."""
    if not hugetlb_on_cgroup2():
        return False
    made = not os.path.isdir(HUGETLB_V1)
    os.makedirs(HUGETLB_V1, exist_ok=True)
    p = subprocess.run(["mount", "-t", "cgroup", "-o", "hugetlb", "hugetlb", HUGETLB_V1],
                       capture_output=True, text=True)
    if p.returncode != 0:
        if made:
            os.rmdir(HUGETLB_V1)
        with open(os.path.join(os.path.dirname(UNIFIED_CONTROLLERS),
                               "cgroup.subtree_control")) as f:
            enabled = "hugetlb" in f.read().split()
        why = (f"{os.path.dirname(UNIFIED_CONTROLLERS)}/cgroup.subtree_control enables it "
               "(a container's hugetlb limits did; whoever owns that can write -hugetlb "
               "there once nothing uses it)" if enabled else p.stderr.strip().splitlines()[0])
        raise HugetlbBusy(f"cannot bind hugetlb to v1 for crun: {why}")
    print("bench: bound the hugetlb controller to a v1 hierarchy at "
          f"{HUGETLB_V1} so that crun accepts this hybrid host", file=sys.stderr)
    return True


def release_hugetlb(wait_s: float = 90.0) -> bool:
    """Give hugetlb back to cgroup2: unmount its v1 hierarchy once no cgroup is left in it,
    removed ones included (see hugetlb_cgroups).

    While it is bound, other runtimes on the host make their cgroups in it too;
    those that are empty and a few seconds old are removed here (a newer one may
    be about to receive a process), others are waited for.  The kernel keeps an
    unmounted hierarchy that still has cgroups alive and invisible, so it stays
    mounted until it is empty; if it does not empty within wait_s, say so and
    leave it to `python -m tests.bench.host release-hugetlb`."""
    deadline = time.monotonic() + wait_s
    while True:
        left = []
        for d in sorted((d for d, _, _ in os.walk(HUGETLB_V1) if d != HUGETLB_V1),
                        key=lambda d: -len(d)):
            try:
                if time.time() - os.stat(d).st_mtime > 5:
                    os.rmdir(d)
                    continue
            except OSError:
                pass
            if os.path.isdir(d):
                left.append(d)
        dying = hugetlb_cgroups() - 1 - len(left)
        if not left and dying <= 0:
            break
        if time.monotonic() > deadline:
            what = ", ".join(left[:3]) + (", ..." if len(left) > 3 else "")
            if dying > 0:
                what += (", " if what else "") + (
                    f"{dying} removed cgroups still referenced (zombie processes that "
                    "were in them and are not reaped yet)")
            print(f"bench: hugetlb stays bound to {HUGETLB_V1}: other cgroups are in it "
                  f"({what}); once they are gone: python -m tests.bench.host release-hugetlb",
                  file=sys.stderr)
            return False
        time.sleep(1)
    subprocess.run(["umount", HUGETLB_V1], check=False)
    for _ in range(20):
        if hugetlb_on_cgroup2():
            break
        time.sleep(0.25)
    else:
        # Still alive: mount it again, or it would be left invisible and out of reach.
        subprocess.run(["mount", "-t", "cgroup", "-o", "hugetlb", "hugetlb", HUGETLB_V1],
                       check=False)
        print("bench: hugetlb did not return to cgroup2; it stays bound to "
              f"{HUGETLB_V1}: python -m tests.bench.host release-hugetlb", file=sys.stderr)
        return False
    try:
        os.rmdir(HUGETLB_V1)
    except OSError:
        pass
    return True


def hugetlb_cgroups() -> int:
    """Cgroups of the hugetlb hierarchy the kernel still holds, the removed ones too.

    A removed cgroup lives on while a zombie that was in it is not reaped; an
    unmounted hierarchy with such cgroups would stay alive, invisible."""
    with open("/proc/cgroups") as f:
        for line in f:
            fields = line.split()
            if fields and fields[0] == "hugetlb":
                return int(fields[2])
    return 1


def hierarchies() -> list[str]:
    """The mounted cgroup hierarchies (v1 and cgroup2) as this mount namespace sees them."""
    found = set()
    with open("/proc/self/mountinfo") as f:
        for line in f:
            fields = line.split()
            fstype = fields[fields.index("-") + 1]
            if fstype in ("cgroup", "cgroup2"):
                found.add(fields[4])
    return sorted(found)


def cgroup_dirs(parent: str) -> list[str]:
    """Every directory at or under the bench's own cgroup parent, deepest first."""
    found = []
    for h in hierarchies():
        top = os.path.join(h, parent.lstrip("/"))
        found.extend(d for d, _, _ in os.walk(top))
    return sorted(found, key=lambda d: -len(d))


def leftovers(base: str, roots: list[str]) -> list[str]:
    """What the bench left on the host besides cgroups (layout.py): mounts of its
    files, state in its roots."""
    with open("/proc/self/mountinfo") as f:
        found = [f"mount {line.split()[4]}" for line in f if base in line]
    for root in roots:
        if os.path.isdir(root):
            found += [f"state {os.path.join(root, e)}" for e in os.listdir(root)]
    return found


if __name__ == "__main__":
    if sys.argv[1:] != ["release-hugetlb"]:
        sys.exit("usage: python -m tests.bench.host release-hugetlb")
    if not os.path.ismount(HUGETLB_V1):
        print(f"bench: nothing to release: {HUGETLB_V1} is not mounted")
        sys.exit(0)
    try:
        lock_hugetlb()
    except HugetlbBusy as e:
        sys.exit(f"bench: {e}")
    sys.exit(0 if release_hugetlb(wait_s=600.0) else 1)
