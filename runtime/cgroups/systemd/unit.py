"""Unit and slice names from ``linux.cgroupsPath``, as runc's systemd driver."""

from __future__ import annotations

from runtime.cgroups import CgroupError


def parse_path(container_id: str, cgroups_path: str | None) -> tuple[str, str, str]:
    """"slice:prefix:name" -> (slice, prefix, name); empty: runc's ":runc:<id>"."""
    if not cgroups_path:
        return ("", "runc", container_id)
    parts = cgroups_path.split(":")
    if len(parts) != 3:
        raise CgroupError('expected cgroupsPath to be of format "slice:prefix:name" for '
                          f'systemd cgroups, got "{cgroups_path}" instead')
    return parts[0], parts[1], parts[2]


def unit_name(prefix: str, name: str) -> str:
    """A scope "prefix-name.scope", unless the name asks for a slice."""
    if name.endswith(".slice"):
        return name
    return f"{prefix}-{name}.scope"


def expand_slice(slice_: str) -> str:
    """systemd's nesting by dashes: "a-b-c.slice" -> "/a.slice/a-b.slice/a-b-c.slice"."""
    suffix = ".slice"
    if len(slice_) < len(suffix) or not slice_.endswith(suffix) or "/" in slice_:
        raise CgroupError(f"invalid slice name: {slice_}")
    base = slice_[:-len(suffix)]
    if base == "-":
        return "/"
    path, prefix = "", ""
    for part in base.split("-"):
        if not part:
            raise CgroupError(f"invalid slice name: {slice_}")
        path += "/" + prefix + part + suffix
        prefix += part + "-"
    return path
