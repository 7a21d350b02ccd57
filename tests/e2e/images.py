"""Busybox images built offline from the host's busybox-static.

`rootfs_tar` is for `docker import` and `podman import`; `oci_archive` writes
an OCI image-layout tar that `ctr image import` reads, so the containerd and
Kubernetes tests do not depend on Docker being installed."""

from __future__ import annotations

import hashlib
import io
import json
import os
import tarfile

from runtime.demo_bundle import make_rootfs

BUSYBOX_REF = "localhost/pyrunc-e2e/busybox:1"
PAUSE_REF = "localhost/pyrunc-e2e/pause:1"
PATH_ENV = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def rootfs_tar(workdir: str) -> str:
    """A tar of a busybox rootfs (built once per directory)."""
    tar_path = os.path.join(workdir, "busybox-rootfs.tar")
    if not os.path.exists(tar_path):
        rootfs = os.path.join(workdir, "busybox-rootfs")
        make_rootfs(rootfs)
        with tarfile.open(tar_path + ".part", "w") as tar:
            for name in sorted(os.listdir(rootfs)):
                tar.add(os.path.join(rootfs, name), arcname=name)
        os.rename(tar_path + ".part", tar_path)
    return tar_path


def _blob(tar: tarfile.TarFile, data: bytes) -> str:
    digest = hashlib.sha256(data).hexdigest()
    info = tarfile.TarInfo(f"blobs/sha256/{digest}")
    info.size = len(data)
    tar.addfile(info, io.BytesIO(data))
    return f"sha256:{digest}"


def _add_file(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    tar.addfile(info, io.BytesIO(data))


def oci_archive(workdir: str, images: dict[str, list[str]]) -> str:
    """An OCI layout tar holding one image per reference, all sharing the
    busybox layer; `images` maps a reference to its entrypoint."""
    path = os.path.join(workdir, "busybox-oci.tar")
    with open(rootfs_tar(workdir), "rb") as f:
        layer = f.read()
    with tarfile.open(path, "w") as tar:
        layer_digest = _blob(tar, layer)
        manifests = []
        for ref, entrypoint in images.items():
            config = {
                "architecture": "amd64", "os": "linux",
                "config": {"Env": [PATH_ENV], "Entrypoint": entrypoint, "WorkingDir": "/"},
                "rootfs": {"type": "layers", "diff_ids": [layer_digest]},
            }
            config_bytes = json.dumps(config).encode()
            manifest = {
                "schemaVersion": 2,
                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                           "digest": _blob(tar, config_bytes), "size": len(config_bytes)},
                "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar",
                            "digest": layer_digest, "size": len(layer)}],
            }
            manifest_bytes = json.dumps(manifest).encode()
            manifests.append({
                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "digest": _blob(tar, manifest_bytes), "size": len(manifest_bytes),
                "platform": {"architecture": "amd64", "os": "linux"},
                "annotations": {"io.containerd.image.name": ref,
                                "org.opencontainers.image.ref.name": ref.rsplit(":", 1)[1]},
            })
        _add_file(tar, "oci-layout", json.dumps({"imageLayoutVersion": "1.0.0"}).encode())
        _add_file(tar, "index.json", json.dumps({"schemaVersion": 2,
                                                 "manifests": manifests}).encode())
    return path
