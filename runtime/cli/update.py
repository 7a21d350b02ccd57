"""pyrunc update: change a container's resource limits (runc's flags and -r file)."""

from __future__ import annotations

from runtime.cli.flags import Flag

SUMMARY = "update container resource constraints"
USAGE = "[command options] <container-id>"
ARGS = (1, 1)
FLAGS = (
    Flag("resources", "r", help="path to the file containing the resources to update or '-' to"
         " read from the standard input (then all other options are ignored)"),
    Flag("blkio-weight", kind=int, help="Specifies per cgroup weight, range is from 10 to 1000"),
    Flag("cpu-period", help="CPU CFS period to be used for hardcapping (in usecs). 0 to use"
         " system default"),
    Flag("cpu-quota", help="CPU CFS hardcap limit (in usecs). Allowed cpu time in a given"
         " period"),
    Flag("cpu-share", help="CPU shares (relative weight vs. other containers)"),
    Flag("cpu-rt-period", help="CPU realtime period to be used for hardcapping (in usecs). 0 to"
         " use system default"),
    Flag("cpu-rt-runtime", help="CPU realtime hardcap limit (in usecs). Allowed cpu time in a"
         " given period"),
    Flag("cpuset-cpus", help="CPU(s) to use"),
    Flag("cpuset-mems", help="Memory node(s) to use"),
    Flag("kernel-memory", help="(obsoleted; do not use)"),
    Flag("kernel-memory-tcp", help="(obsoleted; do not use)"),
    Flag("memory", help="Memory limit (in bytes)"),
    Flag("memory-reservation", help="Memory reservation or soft_limit (in bytes)"),
    Flag("memory-swap", help="Total memory usage (memory + swap); set '-1' to enable unlimited"
         " swap"),
    Flag("pids-limit", kind=int, help="Maximum number of pids allowed in the container"),
    Flag("l3-cache-schema", help="The string of Intel RDT/CAT L3 cache schema"),
    Flag("mem-bw-schema", help="The string of Intel RDT/MBA memory bandwidth schema"),
)

_UNITS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40, "p": 1 << 50}


def ram_in_bytes(text: str) -> int:
    """docker/go-units RAMInBytes: "512", "100M", "1.5g", "2GiB" (binary multiples)."""
    from runtime.errors import PyruncError

    s = text.strip()
    number = s.rstrip("bBiIkKmMgGtTpP ")
    suffix = s[len(number):].strip().lower()
    if suffix.endswith("b"):
        suffix = suffix[:-1]
    if suffix.endswith("i"):
        suffix = suffix[:-1]
    try:
        if (not number or not number[0].isdigit() or number.count(".") > 1
                or not number.replace(".", "").isdigit() or suffix not in _UNITS):
            raise ValueError
        return int(float(number) * _UNITS[suffix])
    except ValueError:
        raise PyruncError(f"invalid size: '{text}'") from None


def resources_from_flags(opts: dict) -> dict:
    from runtime.errors import PyruncError

    r: dict = {"memory": {}, "cpu": {}, "blockIO": {}, "pids": {}}
    if opts["blkio_weight"]:
        r["blockIO"]["weight"] = opts["blkio_weight"]
    for flag, key in (("cpuset_cpus", "cpus"), ("cpuset_mems", "mems")):
        if opts[flag]:
            r["cpu"][key] = opts[flag]
    for flag, key, signed in (("cpu_period", "period", False),
                              ("cpu_rt_period", "realtimePeriod", False),
                              ("cpu_share", "shares", False),
                              ("cpu_quota", "quota", True),
                              ("cpu_rt_runtime", "realtimeRuntime", True)):
        value = opts[flag]
        if value:
            try:
                number = int(value, 10)
                if number < 0 and not signed:
                    raise ValueError
            except ValueError:
                kind = "ParseInt" if signed else "ParseUint"
                raise PyruncError(f'invalid value for {flag.replace("_", "-")}: strconv.{kind}: '
                                  f'parsing "{value}": invalid syntax') from None
            r["cpu"][key] = number
    for flag, key in (("memory", "limit"), ("memory_swap", "swap"), ("kernel_memory", "kernel"),
                      ("kernel_memory_tcp", "kernelTCP"),
                      ("memory_reservation", "reservation")):
        value = opts[flag]
        if value:
            try:
                r["memory"][key] = -1 if value == "-1" else ram_in_bytes(value)
            except PyruncError as e:
                raise PyruncError(f'invalid value for {flag.replace("_", "-")}: {e}') from None
    r["pids"]["limit"] = opts["pids_limit"]
    return r


def resources_from_file(path: str) -> dict:
    import json
    import sys

    from runtime.errors import PyruncError

    try:
        if path == "-":
            data = sys.stdin.read()
        else:
            with open(path) as f:
                data = f.read()
    except OSError as e:
        raise PyruncError(f"open {path}: {e.strerror.lower()}") from None
    try:
        r = json.loads(data)
    except ValueError as e:
        raise PyruncError(f"invalid resources JSON: {e}") from None
    if not isinstance(r, dict):
        raise PyruncError("invalid resources JSON: expected an object")
    return r


def run(ctx, opts: dict, args: list[str]) -> int:
    from runtime.errors import PyruncError
    from runtime.lifecycle.update import update

    if opts["resources"]:
        resources = resources_from_file(opts["resources"])
    else:
        resources = resources_from_flags(opts)
    if opts["l3_cache_schema"]:
        raise PyruncError("Intel RDT/CAT: l3 cache schema is not enabled")
    if opts["mem_bw_schema"]:
        raise PyruncError("Intel RDT/MBA: memory bandwidth schema is not enabled")
    update(ctx, args[0], resources)
    return 0
