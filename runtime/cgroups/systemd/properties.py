"""Unit properties from OCI linux.resources, as runc's systemd driver sets them.

systemd owns these values in the unit's cgroup: were they only written to the
files, systemd would put its own back at the next daemon-reload.  What systemd
has no property for is written by the cgroupfs driver afterwards (manager.py).
Variants are jeepney's (signature, value) pairs.
"""

from __future__ import annotations

from runtime.cgroups.files import MAX_UINT64

DEFAULT_PERIOD = 100000  # µs, the kernel's default cpu quota period


def _u64(n: int) -> tuple[str, int]:
    return ("t", MAX_UINT64 if n < 0 else n)


def range_to_bits(text: str) -> bytes:
    """"0-2,5" -> the little-endian CPU mask systemd's AllowedCPUs takes."""
    from runtime.cgroups.resources import parse_cpu_list

    mask = 0
    for cpu in parse_cpu_list(text):
        mask |= 1 << cpu
    return mask.to_bytes(max(1, (mask.bit_length() + 7) // 8), "little")


def cpu_quota(props: list, cpu: dict) -> None:
    """CPUQuotaPerSecUSec (+ CPUQuotaPeriodUSec).  systemd keeps whole percents, so
    a quota is rounded up to 10 ms per second, and ``cpu`` gets the rounded
    quota to write to the files as well (runc's addCPUQuota)."""
    quota, period = cpu.get("quota") or 0, cpu.get("period") or 0
    if period:
        props.append(("CPUQuotaPeriodUSec", ("t", period)))
    if quota or period:
        per_sec = MAX_UINT64
        if quota > 0:
            p = period or DEFAULT_PERIOD
            per_sec = quota * 1000000 // p
            if per_sec % 10000:
                per_sec = (per_sec // 10000 + 1) * 10000
                cpu["quota"] = per_sec * p // 1000000
        props.append(("CPUQuotaPerSecUSec", ("t", per_sec)))


def _io_devices(props: list, block: dict, names: tuple[tuple[str, str], ...]) -> None:
    for key, prop in names:
        entries = [(f"/dev/block/{d['major']}:{d['minor']}", d.get("rate", d.get("weight")))
                   for d in block.get(key) or [] if d.get("rate", d.get("weight"))]
        if entries:
            props.append((prop, ("a(st)", entries)))


_V2_IO = (("weightDevice", "IODeviceWeight"), ("throttleReadBpsDevice", "IOReadBandwidthMax"),
          ("throttleWriteBpsDevice", "IOWriteBandwidthMax"),
          ("throttleReadIOPSDevice", "IOReadIOPSMax"),
          ("throttleWriteIOPSDevice", "IOWriteIOPSMax"))
_V1_IO = (("weightDevice", "BlockIODeviceWeight"),
          ("throttleReadBpsDevice", "BlockIOReadBandwidth"),
          ("throttleWriteBpsDevice", "BlockIOWriteBandwidth"))


def from_resources(res: dict, *, unified: bool, version: int, rules: list | None) -> list:
    """Properties for validated resources; ``res["cpu"]["quota"]`` may be rounded."""
    props: list = []
    if rules is not None:
        props.extend(devices(rules))
    mem = res.get("memory") or {}
    cpu = res.get("cpu") or {}
    if unified:
        from runtime.cgroups.v2.cpu import shares_to_weight
        from runtime.cgroups.v2.io import blkio_weight_to_io_weight
        from runtime.cgroups.v2.memory import swap_value

        if mem.get("limit"):
            props.append(("MemoryMax", _u64(mem["limit"])))
        if mem.get("reservation"):
            props.append(("MemoryLow", _u64(mem["reservation"])))
        swap = swap_value(mem.get("swap") or 0, mem.get("limit") or 0)
        if swap:
            props.append(("MemorySwapMax", _u64(swap)))
        if cpu.get("shares"):
            props.append(("CPUWeight", ("t", shares_to_weight(cpu["shares"]))))
        block = res.get("blockIO") or {}
        if block.get("weight"):
            props.append(("IOWeight", ("t", blkio_weight_to_io_weight(block["weight"]))))
        _io_devices(props, block, _V2_IO)
    else:
        if mem.get("limit"):
            props.append(("MemoryLimit", _u64(mem["limit"])))
        if cpu.get("shares"):
            props.append(("CPUShares", ("t", cpu["shares"])))
        block = res.get("blockIO") or {}
        if block.get("weight"):
            props.append(("BlockIOWeight", ("t", block["weight"])))
        _io_devices(props, block, _V1_IO)
    cpu_quota(props, cpu)
    limit = (res.get("pids") or {}).get("limit") or 0
    if limit:
        props.append(("TasksMax", _u64(limit)))
    if version >= 244:
        if cpu.get("cpus"):
            props.append(("AllowedCPUs", ("ay", range_to_bits(cpu["cpus"]))))
        if cpu.get("mems"):
            props.append(("AllowedMemoryNodes", ("ay", range_to_bits(cpu["mems"]))))
    if unified:  # last: systemd takes the last of a repeated property, as the files do
        props.extend(from_unified(res.get("unified") or {}))
    return props


_UNIFIED_MEMORY = {"memory.high": "MemoryHigh", "memory.low": "MemoryLow",
                   "memory.min": "MemoryMin", "memory.max": "MemoryMax",
                   "memory.swap.max": "MemorySwapMax", "pids.max": "TasksMax"}


def from_unified(unified: dict) -> list:
    """The ``unified`` keys systemd has a property for (runc's unifiedResToSystemdProps);
    the files get every key anyway.  Values were checked by the validator."""
    props: list = []
    for key, value in sorted(unified.items()):
        v = str(value).strip()
        if key in _UNIFIED_MEMORY and (v == "max" or v.isdigit()):
            props.append((_UNIFIED_MEMORY[key], _u64(-1 if v == "max" else max(int(v), 1)
                                                      if key == "pids.max" else int(v))))
        elif key == "cpu.weight" and v.isdigit():
            props.append(("CPUWeight", ("t", int(v))))
        elif key == "cpu.max":
            parts = v.split()
            if 1 <= len(parts) <= 2 and all(p.isdigit() for p in parts[1:]) and \
                    (parts[0] == "max" or parts[0].isdigit()):
                cpu_quota(props, {"quota": 0 if parts[0] == "max" else int(parts[0]),
                                  "period": int(parts[1]) if len(parts) == 2
                                  else DEFAULT_PERIOD})
    return props


def devices(rules: list) -> list:
    """DevicePolicy/DeviceAllow from the device rules (runc's emulation: systemd
    knows only allow-lists, so a deny-list other than "allow all" becomes deny all)."""
    from runtime.cgroups.devices import WILDCARD, Emulator

    emu = Emulator.from_rules(rules)
    if emu.default_allow:
        if not emu.exceptions:
            return [("DevicePolicy", ("s", "auto")), ("DeviceAllow", ("a(ss)", []))]
        return [("DevicePolicy", ("s", "strict")), ("DeviceAllow", ("a(ss)", []))]
    allow = []
    for (type_, major, minor), access in sorted(emu.exceptions.items(),
                                                key=lambda kv: (kv[0][1], kv[0][2], kv[0][0])):
        group = {"b": "block-", "c": "char-"}.get(type_)
        if group is None:
            continue
        if major == WILDCARD:
            if minor != WILDCARD:
                continue  # systemd has no "*:n" rule (runc ignores it too)
            path = group + "*"
        elif minor == WILDCARD:
            path = group + str(major)
        else:
            path = f"/dev/{'block' if type_ == 'b' else 'char'}/{major}:{minor}"
        allow.append((path, access))
    return [("DevicePolicy", ("s", "strict")), ("DeviceAllow", ("a(ss)", allow))]


def start_properties(unit: str, slice_: str, pid: int, *, unified: bool, name: str,
                     res: dict, version: int) -> list:
    """What runc's Apply passes to StartTransientUnit besides the resources."""
    props: list = [("Description", ("s", f"libcontainer container {name}"))]
    if unit.endswith(".slice"):
        props.append(("Wants", ("as", [slice_])))
    else:
        props.append(("Slice", ("s", slice_)))
        props.append(("Delegate", ("b", True)))
    if pid > 0:
        props.append(("PIDs", ("au", [pid])))
    props += [("MemoryAccounting", ("b", True)), ("CPUAccounting", ("b", True)),
              ("IOAccounting" if unified else "BlockIOAccounting", ("b", True)),
              ("TasksAccounting", ("b", True)), ("DefaultDependencies", ("b", False))]
    oom_group = (res.get("unified") or {}).get("memory.oom.group")
    if unified and oom_group is not None and version >= 253:
        policy = {"0": "continue", "1": "kill"}.get(str(oom_group).strip())
        if policy:
            props.append(("OOMPolicy", ("s", policy)))
    return props
