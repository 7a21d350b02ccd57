"""v1 devices controller: make devices.list match the wanted rules."""

from __future__ import annotations

from runtime.cgroups import CgroupError, files
from runtime.cgroups.devices import Emulator, Rule


def set_rules(path: str, rules: list[Rule]) -> None:
    target = Emulator.from_rules(rules)
    current = Emulator.from_list(files.read(path, "devices.list"))
    for rule in current.transition(target):
        files.write(path, "devices.allow" if rule.allow else "devices.deny",
                    rule.cgroup_string())
    # devices.list cannot show deny exceptions, so only a whitelist can be compared.
    after = Emulator.from_list(files.read(path, "devices.list"))
    if not target.default_allow and after != target:
        raise CgroupError("resulting devices cgroup doesn't precisely match target")
    if target.default_allow != after.default_allow:
        raise CgroupError("resulting devices cgroup doesn't match target mode")
