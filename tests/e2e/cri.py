"""Just enough of a Kubernetes CRI client to do what the kubelet does for a pod
(Debian has no crictl): gRPC through grpcio, messages hand-encoded in the
protobuf wire format, using the field numbers of the CRI `runtime.v1` API."""

from __future__ import annotations

import json
from collections.abc import Iterable

Field = tuple[int, object]


def _varint(n: int) -> bytes:
    n &= (1 << 64) - 1  # int64 negatives are ten-byte two's complement
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def msg(*fields: Field) -> bytes:
    """Encode (field number, value) pairs: str/bytes are length-delimited (bytes
    also carries a nested message), int/bool are varints, lists repeat, None is
    left out."""
    out = bytearray()
    for num, value in fields:
        values = value if isinstance(value, list) else [value]
        for v in values:
            if v is None:
                continue
            if isinstance(v, bool | int):
                out += _varint(num << 3) + _varint(int(v))
            else:
                data = v.encode() if isinstance(v, str) else bytes(v)
                out += _varint((num << 3) | 2) + _varint(len(data)) + data
    return bytes(out)


def string_map(num: int, entries: dict[str, str]) -> Field:
    """A protobuf map<string,string> is a repeated {1: key, 2: value} message."""
    return num, [msg((1, k), (2, v)) for k, v in entries.items()]


def parse(data: bytes) -> dict[int, list]:
    """Decode one message level: field number -> list of ints or bytes."""
    fields: dict[int, list] = {}
    i = 0

    def varint() -> int:
        nonlocal i
        shift = result = 0
        while True:
            b = data[i]
            i += 1
            result |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                return result

    while i < len(data):
        key = varint()
        num, wire = key >> 3, key & 7
        if wire == 0:
            value: int | bytes = varint()
        elif wire == 2:
            n = varint()
            value = data[i:i + n]
            i += n
        elif wire == 1:
            value = data[i:i + 8]
            i += 8
        elif wire == 5:
            value = data[i:i + 4]
            i += 4
        else:
            raise ValueError(f"unsupported wire type {wire}")
        fields.setdefault(num, []).append(value)
    return fields


def first(fields: dict[int, list], num: int, default=None):
    return fields.get(num, [default])[0]


def text(fields: dict[int, list], num: int) -> str:
    return bytes(first(fields, num, b"")).decode()


def decode_map(entries: Iterable[bytes]) -> dict[str, str]:
    out = {}
    for e in entries:
        f = parse(e)
        out[text(f, 1)] = text(f, 2)
    return out


# CRI enums used here.
NAMESPACE_POD, NAMESPACE_CONTAINER, NAMESPACE_NODE = 0, 1, 2
CONTAINER_CREATED, CONTAINER_RUNNING, CONTAINER_EXITED = 0, 1, 2
SANDBOX_READY = 0


class CriClient:
    """The RuntimeService calls a kubelet makes to run one pod."""

    def __init__(self, socket: str) -> None:
        import grpc  # only the CRI tests need it; they skip when it is missing

        self._grpc = grpc
        self.channel = grpc.insecure_channel(f"unix://{socket}")

    def close(self) -> None:
        self.channel.close()

    def call(self, method: str, request: bytes, timeout: float = 120) -> dict[int, list]:
        rpc = self.channel.unary_unary(f"/runtime.v1.RuntimeService/{method}",
                                       request_serializer=lambda b: b,
                                       response_deserializer=lambda b: b)
        try:
            return parse(rpc(request, timeout=timeout))
        except self._grpc.RpcError as e:
            raise AssertionError(f"CRI {method} failed: {e.code()}: {e.details()}") from None

    def version(self) -> dict[str, str]:
        r = self.call("Version", msg((1, "v1")))
        return {"runtime_name": text(r, 2), "runtime_version": text(r, 3),
                "runtime_api_version": text(r, 4)}

    def status_info(self) -> dict[str, str]:
        return decode_map(self.call("Status", msg((1, True))).get(2, []))

    def run_pod_sandbox(self, config: bytes, handler: str) -> str:
        return text(self.call("RunPodSandbox", msg((1, config), (2, handler))), 1)

    def pod_sandbox_state(self, pod_id: str) -> int:
        status = parse(first(self.call("PodSandboxStatus", msg((1, pod_id))), 1, b""))
        return first(status, 3, 0)

    def stop_pod_sandbox(self, pod_id: str) -> None:
        self.call("StopPodSandbox", msg((1, pod_id)))

    def remove_pod_sandbox(self, pod_id: str) -> None:
        self.call("RemovePodSandbox", msg((1, pod_id)))

    def create_container(self, pod_id: str, config: bytes, sandbox_config: bytes) -> str:
        r = self.call("CreateContainer", msg((1, pod_id), (2, config), (3, sandbox_config)))
        return text(r, 1)

    def start_container(self, cid: str) -> None:
        self.call("StartContainer", msg((1, cid)))

    def stop_container(self, cid: str, timeout: int) -> None:
        self.call("StopContainer", msg((1, cid), (2, timeout)))

    def remove_container(self, cid: str) -> None:
        self.call("RemoveContainer", msg((1, cid)))

    def container_status(self, cid: str) -> dict:
        r = self.call("ContainerStatus", msg((1, cid), (2, True)))
        status = parse(first(r, 1, b""))
        info = decode_map(r.get(2, []))
        return {"state": first(status, 3, 0), "exit_code": first(status, 7, 0),
                "reason": text(status, 10), "message": text(status, 11),
                "log_path": text(status, 15),
                "info": json.loads(info["info"]) if "info" in info else {}}

    def exec_sync(self, cid: str, cmd: list[str], timeout: int = 30) -> tuple[int, str, str]:
        r = self.call("ExecSync", msg((1, cid), (2, cmd), (3, timeout)), timeout=timeout + 30)
        return (first(r, 3, 0), bytes(first(r, 1, b"")).decode(),
                bytes(first(r, 2, b"")).decode())


def pod_config(name: str, uid: str, log_dir: str, cgroup_parent: str) -> bytes:
    """PodSandboxConfig of a host-network pod (no CNI needed) with its own PID
    and IPC namespaces, in a cgroup parent of the suite's."""
    namespaces = msg((1, NAMESPACE_NODE), (2, NAMESPACE_CONTAINER), (3, NAMESPACE_POD))
    security = msg((1, namespaces))
    linux = msg((1, cgroup_parent), (2, security))
    metadata = msg((1, name), (2, uid), (3, "default"), (4, 0))
    return msg((1, metadata), (3, log_dir), (8, linux))


def container_config(name: str, image: str, command: list[str], log_path: str,
                     envs: dict[str, str] | None = None) -> bytes:
    """ContainerConfig: metadata, image, command, envs, log path, host network."""
    namespaces = msg((1, NAMESPACE_NODE), (2, NAMESPACE_CONTAINER), (3, NAMESPACE_POD))
    security = msg((3, namespaces))
    linux = msg((2, security))
    env_entries = [msg((1, k), (2, v)) for k, v in (envs or {}).items()]
    return msg((1, msg((1, name), (2, 0))), (2, msg((1, image))), (3, command),
               (6, env_entries), (11, log_path), (15, linux))
