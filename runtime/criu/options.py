"""The checkpoint/restore flags as criu options, with runc's checks and wording."""

from __future__ import annotations

import os

from runtime.errors import PyruncError

CLONE_NEWNET = 0x40000000
# --empty-ns: the namespaces criu may create without restoring them (runc's table:
# the network only; pyrunc, like runc, does not manage network devices).
EMPTY_NS = {"network": CLONE_NEWNET}
CG_MODES = ("", "soft", "full", "strict", "ignore")
DESCRIPTORS = "descriptors.json"  # the init's stdio at dump time (runc's file name)


class CriuOptions:
    """What `checkpoint` and `restore` were asked for (runc's libcontainer.CriuOpts)."""

    def __init__(self, opts: dict, *, restore: bool = False) -> None:
        g = opts.get
        self.restore = restore
        self.image_path = os.path.abspath(g("image_path") or os.path.join(os.getcwd(),
                                                                          "checkpoint"))
        self.work_path = os.path.abspath(g("work_path")) if g("work_path") else ""
        self.parent_path = g("parent_path") or ""
        self.leave_running = bool(g("leave_running"))
        self.tcp_established = bool(g("tcp_established"))
        self.ext_unix_sk = bool(g("ext_unix_sk"))
        self.shell_job = bool(g("shell_job"))
        self.file_locks = bool(g("file_locks"))
        self.pre_dump = bool(g("pre_dump"))
        self.auto_dedup = bool(g("auto_dedup"))
        self.lazy_pages = bool(g("lazy_pages"))
        self.status_fd = g("status_fd", -1)
        self.lsm_profile = g("lsm_profile") or ""
        self.lsm_mount_context = g("lsm_mount_context") or ""
        self.manage_cgroups_mode = g("manage_cgroups_mode") or ""
        if self.manage_cgroups_mode not in CG_MODES:
            raise PyruncError("Invalid manage cgroups mode")  # runc 1.1's wording
        self.page_server = _page_server(g("page_server") or "")
        nsmask = CLONE_NEWNET  # runc: the network is never restored, always "empty"
        for ns in g("empty_ns") or []:
            if ns not in EMPTY_NS:
                raise PyruncError(f'namespace "{ns}" is not supported')
            nsmask |= EMPTY_NS[ns]
        self.empty_ns = nsmask

    def prepare_dirs(self) -> None:
        """runc's prepareImagePaths: the image directory made, --parent-path checked."""
        try:
            os.makedirs(self.image_path, 0o700, exist_ok=True)
        except OSError as e:
            raise PyruncError(f"mkdir {self.image_path}: {e.strerror.lower()}") from None
        if self.parent_path:
            if os.path.isabs(self.parent_path):
                raise PyruncError("--parent-path must be relative")
            real = os.path.join(self.image_path, self.parent_path)
            if not os.path.exists(real):
                raise PyruncError(f"invalid --parent-path: stat {real}: no such file or "
                                  "directory")
            if not os.path.isdir(real):
                raise PyruncError(f"invalid --parent-path: stat {real}: not a directory")
        if self.work_path:
            try:
                os.makedirs(self.work_path, 0o700, exist_ok=True)
            except OSError as e:
                raise PyruncError(f"mkdir {self.work_path}: {e.strerror.lower()}") from None

    def log_path(self, name: str) -> str:
        """Where criu writes its log: the work directory, else the image directory."""
        return os.path.join(self.work_path or self.image_path, name)

    def cg_mode(self, rpc) -> int:
        name = {"": "DEFAULT"}.get(self.manage_cgroups_mode, self.manage_cgroups_mode.upper())
        return rpc.criu_cg_mode.Value(name)

    def fill_common(self, o, rpc, *, images_fd: int, work_fd: int, log_file: str,
                    config: dict) -> None:
        """The criu_opts runc sets for both a dump and a restore."""
        o.images_dir_fd = images_fd
        if work_fd >= 0:
            o.work_dir_fd = work_fd
        o.log_level = 4
        o.log_file = log_file
        o.manage_cgroups = True  # obsoleted by manage_cgroups_mode, still sent by runc
        o.manage_cgroups_mode = self.cg_mode(rpc)
        o.notify_scripts = True
        o.shell_job = self.shell_job
        o.tcp_established = self.tcp_established
        o.ext_unix_sk = self.ext_unix_sk
        o.file_locks = self.file_locks
        o.empty_ns = self.empty_ns
        o.orphan_pts_master = True
        o.auto_dedup = self.auto_dedup
        o.lazy_pages = self.lazy_pages
        config_file = criu_config_file(config)
        if config_file:
            o.config_file = config_file


def criu_config_file(config: dict) -> str:
    """runc's org.criu.config annotation: a criu configuration file for this
    container; set but empty: none; unset: /etc/criu/runc.conf (shared with runc,
    so that a host set up for runc's checkpoints works the same with pyrunc)."""
    annotations = config.get("annotations") or {}
    if "org.criu.config" in annotations:
        return annotations["org.criu.config"] or ""
    return "/etc/criu/runc.conf"


def _page_server(value: str) -> tuple[str, int] | None:
    if not value:
        return None
    address, sep, port = value.rpartition(":")
    if address.startswith("[") and address.endswith("]"):
        address = address[1:-1]
    if not sep or not address or not port:
        raise PyruncError("Use --page-server ADDRESS:PORT to specify page server")
    try:
        number = int(port)
    except ValueError:
        raise PyruncError("Invalid port number") from None
    return address, number


def open_dir(path: str, fds: list[int]) -> int:
    """An image or work directory's fd for criu, added to fds (the caller closes them)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError as e:
        raise PyruncError(f"open {path}: {(e.strerror or '').lower()}") from None
    fds.append(fd)
    return fd
