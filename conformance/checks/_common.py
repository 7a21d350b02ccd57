"""Helpers shared by the check modules."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from conformance.bundle import OUT_DIR, Config
from conformance.sabotage import Sabotage, breaks_config

MUST_NOT_EXIST = "/nonexistent-conformance-rootfs"

# A change to a config (what checks use to configure a container, and sabotages to break one).
Mutation = Callable[[Config], None]


def breaks_create(description: str) -> Sabotage:
    """A runtime that refuses the config: its create fails (we point root.path nowhere)."""

    def mutate(config: Config) -> None:
        config["root"]["path"] = MUST_NOT_EXIST

    return breaks_config(description, mutate)


def wait_for(predicate: Callable[[], bool], timeout: float = 5.0, step: float = 0.02) -> bool:
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(step)


def out_source(config: Config) -> str:
    """Host directory bound at /out in the container."""
    for mount in config.get("mounts", []):
        if mount.get("destination") == OUT_DIR:
            return str(mount["source"])
    raise KeyError("config has no /out mount")


def process(config: Config) -> dict[str, Any]:
    return config.setdefault("process", {})


def linux(config: Config) -> dict[str, Any]:
    return config.setdefault("linux", {})


def resources(config: Config) -> dict[str, Any]:
    return linux(config).setdefault("resources", {})


def add_mount(config: Config, mount: dict[str, Any]) -> None:
    config.setdefault("mounts", []).append(mount)


def drop_mount(config: Config, destination: str) -> None:
    config["mounts"] = [m for m in config.get("mounts", []) if m.get("destination") != destination]


def mount_entry(config: Config, destination: str) -> dict[str, Any]:
    for mount in config.get("mounts", []):
        if mount.get("destination") == destination:
            return mount
    raise KeyError(destination)


def namespaces(config: Config) -> list[dict[str, Any]]:
    return linux(config).setdefault("namespaces", [])


def drop_namespace(config: Config, ns_type: str) -> None:
    linux(config)["namespaces"] = [n for n in namespaces(config) if n.get("type") != ns_type]
    if ns_type == "uts":
        config.pop("hostname", None)
        config.pop("domainname", None)


def add_namespace(config: Config, ns_type: str, path: str | None = None) -> None:
    drop_namespace(config, ns_type)
    entry = {"type": ns_type}
    if path is not None:
        entry["path"] = path
    namespaces(config).append(entry)


def write_script(path: Path, body: str, shell: str = "/bin/sh") -> Path:
    path.write_text(f"#!{shell}\n{body}")
    path.chmod(0o755)
    return path


def first_line(text: str) -> str:
    lines = text.strip().splitlines()
    return lines[0] if lines else ""
