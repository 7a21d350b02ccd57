"""Validation of OCI ``linux.resources`` and runc's ``update`` merge rules.

Values keep the OCI JSON shape; :func:`validate` returns a checked copy.  Types
and signs are checked here (an unsigned field given -5, a string where a number
belongs, an unknown device type, a malformed cpu list ...); ranges the kernel
knows best (cpu.shares bounds, blkio weights) are left to the kernel, whose
refusal is reported as "failed to write ..." like runc does.
"""

from __future__ import annotations

from runtime.cgroups import CgroupError
from runtime.cgroups.files import q

INT64 = (-(1 << 63), (1 << 63) - 1)
UINT64 = (0, (1 << 64) - 1)
UINT32 = (0, (1 << 32) - 1)
UINT16 = (0, (1 << 16) - 1)

KERNEL_MEMORY_WARNING = "Kernel memory settings are ignored and will be removed"

def _where(path: tuple) -> str:
    out = "linux.resources"
    for p in path:
        out += f"[{p}]" if isinstance(p, int) else f".{p}"
    return out


def _int(value, path: tuple, bounds: tuple[int, int]):
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise CgroupError(f"invalid {_where(path)}: expected an integer, got {q(value)}")
    lo, hi = bounds
    if not lo <= value <= hi:
        kind = "a non-negative integer" if lo == 0 else "a 64-bit integer"
        raise CgroupError(f"invalid {_where(path)}: {value} (must be {kind} "
                          f"no larger than {hi})")
    return value


def _bool(value, path: tuple):
    if value is None:
        return None
    if not isinstance(value, bool):
        raise CgroupError(f"invalid {_where(path)}: expected true or false, got {q(value)}")
    return value


def _str(value, path: tuple):
    if value is None:
        return None
    if not isinstance(value, str):
        raise CgroupError(f"invalid {_where(path)}: expected a string, got {q(value)}")
    return value


def _obj(value, path: tuple) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise CgroupError(f"invalid {_where(path)}: expected an object, got {q(value)}")
    return value


def _arr(value, path: tuple) -> list:
    if value is None:
        return []
    if not isinstance(value, list):
        raise CgroupError(f"invalid {_where(path)}: expected an array, got {q(value)}")
    return value


def _limit(value, path: tuple):
    """Memory-style limit: -1 (unlimited), 0 (unset) or a positive byte count."""
    value = _int(value, path, INT64)
    if value is not None and value < -1:
        raise CgroupError(f"invalid {_where(path)}: {value} (must be -1 for unlimited "
                          "or a non-negative number of bytes)")
    return value


def parse_cpu_list(text: str) -> set[int]:
    """Parse a cpuset list ("0-3,5") into the set of numbers it names."""
    text = text.strip()
    if not text:
        return set()
    out: set[int] = set()
    for part in text.split(","):
        lo, dash, hi = part.partition("-")
        if not lo.isdigit() or (dash and not hi.isdigit()):
            raise ValueError(text)
        a, b = int(lo), int(hi or lo)
        if a > b:
            raise ValueError(text)
        out.update(range(a, b + 1))
    return out


def _cpu_list(value, path: tuple):
    value = _str(value, path)
    if value:
        try:
            parse_cpu_list(value)
        except ValueError:
            raise CgroupError(f"invalid {_where(path)}: {q(value)} is not a list like "
                              '"0-3,5"') from None
    return value


def _set(out: dict, key: str, value) -> None:
    if value is not None:
        out[key] = value


def validate(resources: dict | None, warnings: list[str] | None = None) -> dict:
    """Check ``resources`` and return a clean copy; append warnings for ignored values."""
    if resources is None:
        return {}
    r = _obj(resources, ())
    out: dict = {}

    if "memory" in r:
        m = _obj(r["memory"], ("memory",))
        mo: dict = {}
        for key in ("limit", "reservation", "swap"):
            _set(mo, key, _limit(m.get(key), ("memory", key)))
        for key in ("kernel", "kernelTCP"):
            v = _int(m.get(key), ("memory", key), INT64)
            if v is not None:
                mo[key] = v
                if (key == "kernel" and v and warnings is not None
                        and KERNEL_MEMORY_WARNING not in warnings):
                    warnings.append(KERNEL_MEMORY_WARNING)
        sw = m.get("swappiness")
        if sw is not None:
            _int(sw, ("memory", "swappiness"), (-1, UINT64[1]))
            if sw > 100:
                raise CgroupError(f"invalid memory swappiness value: {sw} "
                                  "(valid range is 0-100)")
            if sw != -1:
                mo["swappiness"] = sw
        for key in ("disableOOMKiller", "useHierarchy", "checkBeforeUpdate"):
            _set(mo, key, _bool(m.get(key), ("memory", key)))
        out["memory"] = mo

    if "cpu" in r:
        c = _obj(r["cpu"], ("cpu",))
        co: dict = {}
        for key, bounds in (("shares", UINT64), ("quota", INT64), ("burst", UINT64),
                            ("period", UINT64), ("realtimeRuntime", INT64),
                            ("realtimePeriod", UINT64), ("idle", INT64)):
            _set(co, key, _int(c.get(key), ("cpu", key), bounds))
        for key in ("cpus", "mems"):
            _set(co, key, _cpu_list(c.get(key), ("cpu", key)))
        out["cpu"] = co

    if "pids" in r:
        p = _obj(r["pids"], ("pids",))
        out["pids"] = {"limit": _int(p.get("limit"), ("pids", "limit"), INT64) or 0}

    if "blockIO" in r:
        b = _obj(r["blockIO"], ("blockIO",))
        bo: dict = {}
        for key in ("weight", "leafWeight"):
            _set(bo, key, _int(b.get(key), ("blockIO", key), UINT16))
        wds = []
        for i, wd in enumerate(_arr(b.get("weightDevice"), ("blockIO", "weightDevice"))):
            where = ("blockIO", "weightDevice", i)
            wd = _obj(wd, where)
            e = {"major": _int(wd.get("major"), where + ("major",), INT64) or 0,
                 "minor": _int(wd.get("minor"), where + ("minor",), INT64) or 0}
            for key in ("weight", "leafWeight"):
                _set(e, key, _int(wd.get(key), where + (key,), UINT16))
            wds.append(e)
        if wds:
            bo["weightDevice"] = wds
        for key in ("throttleReadBpsDevice", "throttleWriteBpsDevice",
                    "throttleReadIOPSDevice", "throttleWriteIOPSDevice"):
            tds = []
            for i, td in enumerate(_arr(b.get(key), ("blockIO", key))):
                where = ("blockIO", key, i)
                td = _obj(td, where)
                tds.append({"major": _int(td.get("major"), where + ("major",), INT64) or 0,
                            "minor": _int(td.get("minor"), where + ("minor",), INT64) or 0,
                            "rate": _int(td.get("rate"), where + ("rate",), UINT64) or 0})
            if tds:
                bo[key] = tds
        out["blockIO"] = bo

    if "hugepageLimits" in r:
        hl = []
        for i, h in enumerate(_arr(r["hugepageLimits"], ("hugepageLimits",))):
            where = ("hugepageLimits", i)
            h = _obj(h, where)
            size = _str(h.get("pageSize"), where + ("pageSize",))
            if not size:
                raise CgroupError(f"invalid {_where(where + ('pageSize',))}: missing")
            hl.append({"pageSize": size,
                       "limit": _int(h.get("limit"), where + ("limit",), UINT64) or 0})
        out["hugepageLimits"] = hl

    if "devices" in r:
        devs = []
        for i, d in enumerate(_arr(r["devices"], ("devices",))):
            where = ("devices", i)
            d = _obj(d, where)
            allow = _bool(d.get("allow"), where + ("allow",))
            if allow is None:
                raise CgroupError(f"invalid {_where(where)}: \"allow\" is required")
            type_ = _str(d.get("type"), where + ("type",)) or "a"
            if type_ not in ("a", "b", "c"):
                raise CgroupError(f"invalid cgroup device type {q(type_)}")
            access = _str(d.get("access"), where + ("access",))
            if not access:
                raise CgroupError(f"device access at {i} field cannot be empty")
            if set(access) - set("rwm"):
                raise CgroupError(f"invalid device access {q(access)} at {i}: "
                                  "must be made of r, w and m")
            e = {"allow": allow, "type": type_, "access": access}
            for key in ("major", "minor"):
                v = _int(d.get(key), where + (key,), INT64)
                if v is not None and v < -1:
                    raise CgroupError(f"invalid {_where(where + (key,))}: {v}")
                if v is not None and v != -1:
                    e[key] = v
            devs.append(e)
        out["devices"] = devs

    if "network" in r:
        n = _obj(r["network"], ("network",))
        no: dict = {}
        _set(no, "classID", _int(n.get("classID"), ("network", "classID"), UINT32))
        prios = []
        for i, p in enumerate(_arr(n.get("priorities"), ("network", "priorities"))):
            where = ("network", "priorities", i)
            p = _obj(p, where)
            name = _str(p.get("name"), where + ("name",))
            if not name:
                raise CgroupError(f"invalid {_where(where + ('name',))}: missing")
            prios.append({"name": name,
                          "priority": _int(p.get("priority"), where + ("priority",),
                                           UINT32) or 0})
        if prios:
            no["priorities"] = prios
        out["network"] = no

    if "rdma" in r:
        ro = {}
        for dev, lim in _obj(r["rdma"], ("rdma",)).items():
            lim = _obj(lim, ("rdma", dev))
            e: dict = {}
            for key in ("hcaHandles", "hcaObjects"):
                _set(e, key, _int(lim.get(key), ("rdma", dev, key), UINT32))
            ro[dev] = e
        out["rdma"] = ro

    if "unified" in r:
        uo = {}
        for key, value in _obj(r["unified"], ("unified",)).items():
            if "/" in key or key in ("", ".", ".."):
                raise CgroupError(f"unified resource {q(key)} must be a file name "
                                  "(no slashes)")
            if "." not in key.strip("."):
                raise CgroupError(f"unified resource {q(key)} must be in the form "
                                  "CONTROLLER.PARAMETER")
            uo[key] = _str(value, ("unified", key)) or ""
        out["unified"] = uo

    return out


# What `runc update` may change; anything else in an update request is ignored.
_UPDATABLE = {
    "memory": ("limit", "reservation", "swap", "kernel", "kernelTCP"),
    "cpu": ("shares", "quota", "period", "realtimeRuntime", "realtimePeriod", "cpus",
            "mems", "burst", "idle"),
    "blockIO": ("weight",),
    "pids": ("limit",),
}
_KEEP_WHEN_ABSENT = ("burst", "idle")   # None-able values: absent means "leave alone"


def merge_update(stored: dict, update: dict) -> tuple[dict, dict]:
    """runc update: return (resources to write, resources to remember).

    Zero or absent values leave the kernel's value alone.  When only one of CPU
    quota and period is given the other keeps its old value, as in runc.
    """
    from spec.jsonio import clone

    write, merged = clone(stored), clone(stored)
    for group, keys in _UPDATABLE.items():
        new = update.get(group) or {}
        wg = write.setdefault(group, {})
        mg = merged.setdefault(group, {})
        for key in keys:
            value = new.get(key)
            if key in _KEEP_WHEN_ABSENT:
                if value is not None:
                    wg[key] = mg[key] = value
                continue
            empty = "" if key in ("cpus", "mems") else 0
            wg[key] = empty if value is None else value
            if value not in (None, empty):
                mg[key] = value
        if group == "cpu":
            p, q = new.get("period") or 0, new.get("quota") or 0
            if (p == 0) != (q == 0):
                # Only one given: the other is rewritten with its stored value.
                wg["period" if p == 0 else "quota"] = (stored.get("cpu") or {}).get(
                    "period" if p == 0 else "quota", 0)
        for d in (wg, mg):
            for key in [k for k, v in d.items() if v in (None,)]:
                del d[key]
    if "unified" in update:
        write["unified"] = dict(update["unified"] or {})
        merged["unified"] = {**(stored.get("unified") or {}), **write["unified"]}
    else:
        write.pop("unified", None)
    return write, merged
