"""spec.model's TypedDicts list the same fields, equally required, as our schemas."""

import pytest
from spec_testlib import OUR_SCHEMAS, load_json

from spec import model

CONFIG = "config.schema.json"
# TypedDict -> (schema file, JSON pointer of the object schema it describes)
MODEL_TO_SCHEMA = {
    "Config": (CONFIG, ""),
    "Root": (CONFIG, "/$defs/Root"),
    "Mount": (CONFIG, "/$defs/Mount"),
    "IDMapping": ("defs.schema.json", "/$defs/IDMapping"),
    "Process": (CONFIG, "/$defs/Process"),
    "ConsoleSize": (CONFIG, "/$defs/Process/properties/consoleSize"),
    "Rlimit": (CONFIG, "/$defs/Rlimit"),
    "User": (CONFIG, "/$defs/User"),
    "Capabilities": (CONFIG, "/$defs/Capabilities"),
    "Scheduler": (CONFIG, "/$defs/Scheduler"),
    "IOPriority": (CONFIG, "/$defs/IOPriority"),
    "ExecCPUAffinity": (CONFIG, "/$defs/Process/properties/execCPUAffinity"),
    "Hook": (CONFIG, "/$defs/Hook"),
    "Hooks": (CONFIG, "/$defs/Hooks"),
    "Linux": (CONFIG, "/$defs/Linux"),
    "Namespace": (CONFIG, "/$defs/Namespace"),
    "TimeOffset": (CONFIG, "/$defs/TimeOffset"),
    "Device": (CONFIG, "/$defs/Device"),
    "NetDevice": (CONFIG, "/$defs/NetDevice"),
    "Resources": (CONFIG, "/$defs/Resources"),
    "DeviceRule": (CONFIG, "/$defs/DeviceRule"),
    "Memory": (CONFIG, "/$defs/Memory"),
    "CPU": (CONFIG, "/$defs/CPU"),
    "BlockIO": (CONFIG, "/$defs/BlockIO"),
    "WeightDevice": (CONFIG, "/$defs/WeightDevice"),
    "ThrottleDevice": (CONFIG, "/$defs/ThrottleDevices/items"),
    "HugepageLimit": (CONFIG, "/$defs/HugepageLimit"),
    "Network": (CONFIG, "/$defs/Network"),
    "InterfacePriority": (CONFIG, "/$defs/Network/properties/priorities/items"),
    "Pids": (CONFIG, "/$defs/Resources/properties/pids"),
    "RdmaLimit": (CONFIG, "/$defs/RdmaLimit"),
    "IntelRdt": (CONFIG, "/$defs/IntelRdt"),
    "MemoryPolicy": (CONFIG, "/$defs/MemoryPolicy"),
    "Seccomp": (CONFIG, "/$defs/Seccomp"),
    "Syscall": (CONFIG, "/$defs/Syscall"),
    "SyscallArg": (CONFIG, "/$defs/SyscallArg"),
    "Personality": (CONFIG, "/$defs/Personality"),
    "State": ("state.schema.json", ""),
    "Features": ("features.schema.json", ""),
    "LinuxFeatures": ("features.schema.json", "/$defs/Linux"),
    "CgroupFeatures": ("features.schema.json", "/$defs/Linux/properties/cgroup"),
    "SeccompFeatures": ("features.schema.json", "/$defs/Linux/properties/seccomp"),
    "MemoryPolicyFeatures": ("features.schema.json", "/$defs/Linux/properties/memoryPolicy"),
    "IntelRdtFeatures": ("features.schema.json", "/$defs/Linux/properties/intelRdt"),
    "MountExtensions": ("features.schema.json", "/$defs/Linux/properties/mountExtensions"),
    "Enabled": ("features.schema.json", "/$defs/Enabled"),
}


def _schema(file: str, pointer: str) -> dict:
    node = load_json(OUR_SCHEMAS / file)
    for part in pointer.split("/")[1:]:
        node = node[part]
    return node


@pytest.mark.parametrize("name", sorted(MODEL_TO_SCHEMA))
def test_typed_dict_matches_schema(name):
    typed = getattr(model, name)
    schema = _schema(*MODEL_TO_SCHEMA[name])
    assert set(typed.__annotations__) == set(schema["properties"])
    assert typed.__required_keys__ == set(schema.get("required", []))


def test_every_typed_dict_is_checked():
    typed_dicts = {
        n for n, v in vars(model).items() if isinstance(v, type) and hasattr(v, "__required_keys__")
    }
    assert typed_dicts == set(MODEL_TO_SCHEMA)
