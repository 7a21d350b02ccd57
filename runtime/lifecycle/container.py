"""A container as the store knows it: its state, status and OCI state document."""

from __future__ import annotations

import os

from runtime import SPEC_VERSION
from runtime.errors import NotExistError, PyruncError
from runtime.state import status as status_mod
from runtime.state.store import CONFIG, STATE, Lock, Store, read_json, write_json

# The fields the runtime reads back, and their types: anything else means the file
# was damaged (or written by something else) and is one clear error, not a crash.
_FIELDS: dict[str, tuple[type, ...]] = {
    "pid": (int,), "pid_start": (int, type(None)), "creating": (bool,), "creator": (dict,),
    "cgroup": (dict,), "annotations": (dict,), "bundle": (str,), "rootfs": (str,),
    "created": (str,), "owner": (str,),
}


def check_state(state: object) -> None:
    if not isinstance(state, dict):
        raise PyruncError("state.json of container is damaged: not a JSON object")
    for key, kinds in _FIELDS.items():
        value = state.get(key)
        if key in state and (not isinstance(value, kinds)
                             or (isinstance(value, bool) and bool not in kinds)):
            raise PyruncError(f"state.json of container is damaged: {key} is {value!r}")
    creator = state.get("creator") or {}
    if not isinstance(creator.get("pid", 0), int) or not isinstance(
            creator.get("start"), (int, type(None))):
        raise PyruncError(f"state.json of container is damaged: creator is {creator!r}")


class Container:
    def __init__(self, store: Store, container_id: str) -> None:
        self.id = container_id
        self.store = store
        self.dir = store.path(container_id)
        self.state: dict = {}
        self._config: dict | None = None  # config.json never changes after create

    @classmethod
    def created_here(cls, store: Store, container_id: str, state: dict,
                     config: dict) -> Container:
        """The container this process has just created (`run`): no need to read back
        what it wrote."""
        c = cls(store, container_id)
        c.state = state
        c._config = config
        return c

    @classmethod
    def load(cls, store: Store, container_id: str) -> Container:
        c = cls(store, container_id)
        if not os.path.isdir(c.dir):
            raise NotExistError()
        c.state = read_json(c.dir, STATE)
        check_state(c.state)
        return c

    def lock(self) -> Lock:
        return Lock(self.dir)

    def save(self) -> None:
        write_json(self.dir, STATE, self.state)

    def config(self) -> dict:
        if self._config is None:
            self._config = read_json(self.dir, CONFIG)
        return self._config

    @property
    def pid(self) -> int:
        return int(self.state.get("pid", 0))

    def status(self) -> str:
        return status_mod.status(self.state, self.dir)

    def oci_state(self) -> dict:
        """The state document: the spec's fields plus runc's rootfs, created, owner."""
        st = self.status()
        doc = {
            "ociVersion": SPEC_VERSION,
            "id": self.id,
            "pid": self.pid if st != "stopped" else 0,
            "status": st,
            "bundle": self.state.get("bundle", ""),
            "rootfs": self.state.get("rootfs", ""),
            "created": self.state.get("created", ""),
            "owner": self.state.get("owner", ""),
        }
        if self.state.get("annotations"):
            doc["annotations"] = self.state["annotations"]
        return doc
