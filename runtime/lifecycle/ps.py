"""ps: the processes of a container, as pids or as ps(1) lines."""

from __future__ import annotations

import subprocess

from runtime.errors import PyruncError
from runtime.lifecycle.container import Container
from runtime.state.store import Store


def processes(ctx, container_id: str) -> list[int] | None:
    """Every pid in the container's cgroup; None for a stopped container without one."""
    c = Container.load(Store(ctx.root), container_id)
    cg = c.state.get("cgroup")
    if not cg:
        return None
    from runtime.cgroups import CgroupError, from_state

    mgr = from_state(cg)
    if c.status() == "stopped" and not mgr.exists():
        return None
    try:
        pids = mgr.pids()
    except CgroupError as e:
        raise PyruncError(f"unable to get all container pids: {e}") from None
    if not pids and cg.get("rootless") and c.pid:
        from runtime.lifecycle.kill import pid_namespace_members

        pids = pid_namespace_members(c.pid)
    return pids


def ps_table(pids: list[int], ps_args: list[str]) -> str:
    """Run ps(1) with ``ps_args`` (default -ef) and keep the header and our pids' lines."""
    try:
        p = subprocess.run(["ps", *(ps_args or ["-ef"])], capture_output=False,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    except OSError as e:
        raise PyruncError(f"exec: \"ps\": {e.strerror}") from None
    if p.returncode != 0:
        raise PyruncError(f"exit status {p.returncode}: {p.stdout.strip()}")
    lines = p.stdout.split("\n")
    titles = lines[0].split()
    if "PID" not in titles:
        raise PyruncError("couldn't find PID field in ps output")
    index = titles.index("PID")
    wanted = set(pids)
    out = [lines[0]]
    for line in lines[1:]:
        if not line:
            continue
        fields = line.split()
        try:
            pid = int(fields[index])
        except (IndexError, ValueError):
            raise PyruncError(f"unable to parse pid: {line!r}") from None
        if pid in wanted:
            out.append(line)
    return "\n".join(out) + "\n"
