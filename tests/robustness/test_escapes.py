"""Container escapes of the classes runc advisories fixed, as regression tests.

Each test is named after the advisory class it covers. Exec-time classes
(CVE-2019-5736, CVE-2024-21626) are covered by tests/exec.
"""

from __future__ import annotations

import ctypes
import os
import subprocess
import threading

import pytest

from tests.robustness.leftovers import assert_one_clear_line, found
from tests.security.helpers import mountinfo
from tests.support.runtime import is_pyrunc


def _run(rt, bundle, script: str) -> subprocess.CompletedProcess:
    bundle.sh(script)
    return rt("run", "-b", bundle.path, bundle.id, timeout=60)


def _tmpfs_mount(dest: str) -> dict:
    return {"destination": dest, "type": "tmpfs", "source": "tmpfs", "options": ["size=64k"]}


# -- CVE-2021-30465: mount destinations through rootfs symlinks -------------------------

@pytest.mark.parametrize("link", ["/", "..", "../../../../../../..", "/../.."])
def test_cve_2021_30465_symlinked_mount_destination_stays_in_rootfs(rt, bundle, tmp_path, link):
    """A rootfs symlink to / or .. used as (part of) a mount destination resolves
    inside the rootfs: the host path it names is neither created nor mounted on."""
    rootfs = bundle.own_rootfs()
    os.symlink(link, os.path.join(rootfs, "evil"))
    host_target = tmp_path / "host-side" / "escaped"
    dest = "/evil" + str(host_target)
    bundle.config["mounts"].append(_tmpfs_mount(dest))
    bundle.args("/bin/sleep", "100")
    rt("run", "-d", "-b", bundle.path, bundle.id, check=True)
    pid = rt.state(bundle.id)["pid"]
    assert not os.path.exists(host_target), "mkdir escaped the rootfs"
    inside = str(host_target)  # where the symlink, resolved in the root, leads
    points = [m["point"] for m in mountinfo(pid) if m["fstype"] == "tmpfs"]
    assert inside in points, points
    assert os.path.isdir(os.path.join(rootfs, inside.lstrip("/")))


def test_cve_2021_30465_symlinked_bind_destination_stays_in_rootfs(rt, bundle, tmp_path):
    """The same for a bind mount: the host's file at the symlinked path is untouched
    and the container sees the bind source at the path resolved in its root."""
    rootfs = bundle.own_rootfs()
    os.symlink("/", os.path.join(rootfs, "evil"))
    src = tmp_path / "src"
    src.mkdir()
    (src / "marker").write_text("from the bind source\n")
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "keep").write_text("host file\n")
    bundle.config["mounts"].append({"destination": "/evil" + str(victim), "type": "bind",
                                    "source": str(src), "options": ["bind"]})
    p = _run(rt, bundle, f"cat {victim}/marker")
    assert p.returncode == 0, p.stderr
    assert p.stdout == "from the bind source\n"
    assert (victim / "keep").read_text() == "host file\n"
    assert not (victim / "marker").exists()
    assert leftover_mounts(str(victim)) == []


def leftover_mounts(path: str) -> list[str]:
    with open("/proc/self/mountinfo") as f:
        return [line for line in f if f" {path} " in line]


_RENAME_EXCHANGE = 2


def _swapper(a: str, b: str, stop: threading.Event, errors: list) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p,
                               ctypes.c_uint]
    while not stop.is_set():
        if libc.renameat2(-100, a.encode(), -100, b.encode(), _RENAME_EXCHANGE) != 0:
            errors.append(ctypes.get_errno())
            return


def test_cve_2021_30465_destination_swapped_for_a_symlink_during_create(rt, make_bundle,
                                                                       tmp_path):
    """The advisory's race: while create mounts, a directory on the path of the
    destination is exchanged with a symlink to / over and over. Whatever the
    interleaving, nothing is created or mounted outside the rootfs."""
    b = make_bundle("race")
    rootfs = b.own_rootfs()
    os.mkdir(os.path.join(rootfs, "mnt"))
    os.symlink("/", os.path.join(rootfs, "mnt-link"))
    host = tmp_path / "race-host"
    host.mkdir()
    b.config["mounts"] += [_tmpfs_mount(f"/mnt{host}/d{i}") for i in range(20)]
    b.args("/bin/true").save()
    stop, errors = threading.Event(), []
    t = threading.Thread(target=_swapper, args=(os.path.join(rootfs, "mnt"),
                                                os.path.join(rootfs, "mnt-link"), stop, errors))
    t.start()
    try:
        for i in range(10):
            p = rt("run", "-b", b.path, f"{b.id}-{i}", timeout=60)
            assert "Traceback" not in p.stderr
            assert os.listdir(host) == [], "a mountpoint was created on the host"
            assert leftover_mounts(str(host)) == []
    finally:
        stop.set()
        t.join()
    assert errors == []


# -- CVE-2019-16884: masked/read-only paths bypassed through a symlinked /proc ----------

@pytest.mark.parametrize("target", ["/fakeproc", "/", ".."])
def test_cve_2019_16884_symlinked_proc_does_not_unmask(rt, bundle, cgroup_parent, target):
    """/proc in the image is a symlink: either create refuses (runc: proc must be
    mounted on an ordinary directory), or /proc in the container is a procfs whose
    masked paths are masked and /proc/sys is read-only."""
    rootfs = bundle.own_rootfs()
    os.rmdir(os.path.join(rootfs, "proc"))
    if target == "/fakeproc":
        os.mkdir(os.path.join(rootfs, "fakeproc"))
    os.symlink(target, os.path.join(rootfs, "proc"))
    p = _run(rt, bundle, "stat -f -c %T /proc; wc -c < /proc/timer_list; "
             "touch /proc/sys/kernel/hostname 2>/dev/null && echo sys-writable; true")
    if p.returncode != 0:
        assert_one_clear_line(p)
        assert found(rt.root, bundle.id, cgroup_parent, bundle.path) == []
        return
    lines = p.stdout.split()
    assert lines[0] == "proc", p.stdout
    assert lines[1] == "0", "masked /proc/timer_list is readable"
    assert "sys-writable" not in lines


def test_cve_2019_16884_proc_mount_on_a_file_is_refused(rt, bundle, cgroup_parent):
    """/proc in the image is a regular file: the proc mount cannot go there."""
    rootfs = bundle.own_rootfs()
    os.rmdir(os.path.join(rootfs, "proc"))
    with open(os.path.join(rootfs, "proc"), "w") as f:
        f.write("not a directory\n")
    p = _run(rt, bundle, "wc -c < /proc/timer_list")
    assert_one_clear_line(p)
    assert found(rt.root, bundle.id, cgroup_parent, bundle.path) == []


# -- CVE-2019-19921 / CVE-2023-27561: bind mounts over /proc ---------------------------

@pytest.mark.parametrize("dest", ["/proc", "/proc/sys", "/proc/sys/kernel", "/proc/self/attr"])
def test_cve_2019_19921_bind_over_proc_is_refused(rt, bundle, cgroup_parent, tmp_path, dest):
    src = tmp_path / "fake-proc"
    src.mkdir()
    bundle.config["mounts"].append({"destination": dest, "type": "bind", "source": str(src),
                                    "options": ["bind"]})
    p = _run(rt, bundle, "true")
    assert_one_clear_line(p)
    assert found(rt.root, bundle.id, cgroup_parent, bundle.path) == []


def test_lxcfs_style_bind_over_a_proc_file_is_allowed(rt, bundle, tmp_path):
    """The control, and runc's exception: lxcfs binds files like /proc/uptime."""
    src = tmp_path / "uptime"
    src.write_text("12345.67 0.00\n")
    bundle.config["mounts"].append({"destination": "/proc/uptime", "type": "bind",
                                    "source": str(src), "options": ["bind"]})
    p = _run(rt, bundle, "cat /proc/uptime")
    assert p.returncode == 0, p.stderr
    assert p.stdout == "12345.67 0.00\n"


# -- CVE-2025-31133: masking with a /dev/null that is not the null device ---------------

def test_cve_2025_31133_masking_uses_only_a_real_dev_null(rt, bundle, cgroup_parent, tmp_path):
    """The image supplies /dev (a bind of its own directory) whose null is a symlink to
    /proc/sys/kernel/core_pattern: masked paths must not become that file. Either
    create refuses, or every masked file is the null device."""
    bundle.own_rootfs()
    image_dev = tmp_path / "image-dev"
    image_dev.mkdir()
    os.symlink("/proc/sys/kernel/core_pattern", image_dev / "null")
    bundle.config["mounts"] = [m for m in bundle.config["mounts"]
                               if not m["destination"].startswith("/dev")]
    bundle.config["mounts"].append({"destination": "/dev", "type": "bind",
                                    "source": str(image_dev), "options": ["rbind"]})
    p = _run(rt, bundle, "stat -c '%F %t:%T' /proc/timer_list /proc/keys")
    if p.returncode != 0:
        assert_one_clear_line(p)
        assert found(rt.root, bundle.id, cgroup_parent, bundle.path) == []
        return
    assert p.stdout.splitlines() == ["character special file 1:3"] * 2, p.stdout


# -- device cgroup: nodes not allowed stay unopenable ------------------------------------

def _host_block_device() -> tuple[str, int, int]:
    for name in ("loop0", "vda", "sda", "nvme0n1"):
        path = f"/dev/{name}"
        if os.path.exists(path):
            st = os.stat(path)
            return path, os.major(st.st_rdev), os.minor(st.st_rdev)
    pytest.skip("no block device on the host to try")


def _with_mknod(bundle) -> None:
    caps = bundle.process.setdefault("capabilities", {})
    for kind in ("bounding", "effective", "permitted"):
        caps[kind] = sorted(set(caps.get(kind) or []) | {"CAP_MKNOD", "CAP_SYS_ADMIN"})


def test_device_cgroup_denies_a_node_made_with_mknod(rt, bundle):
    """With CAP_MKNOD the container can make a node of a host block device; the
    device cgroup (deny all but the defaults) still refuses to open it."""
    _, major, minor = _host_block_device()
    _with_mknod(bundle)
    p = _run(rt, bundle, f"mknod /dev/blk b {major} {minor} && "
             "(head -c 1 /dev/blk > /dev/null 2>&1 && echo opened || echo denied)")
    assert p.returncode == 0, p.stderr
    assert p.stdout.split() == ["denied"]


def test_device_cgroup_denies_a_bind_mounted_host_node(rt, bundle):
    """A host device node bind-mounted in without a device rule is not openable."""
    path, _, _ = _host_block_device()
    bundle.config["mounts"].append({"destination": "/dev/blk", "type": "bind",
                                    "source": path, "options": ["bind"]})
    p = _run(rt, bundle, "head -c 1 /dev/blk > /dev/null 2>&1 && echo opened || echo denied")
    assert p.returncode == 0, p.stderr
    assert p.stdout.split() == ["denied"]


def test_device_cgroup_allows_what_a_rule_allows(rt, bundle):
    """The control for the two tests above: with a rule, the same node opens."""
    path, major, minor = _host_block_device()
    bundle.linux["resources"]["devices"].append(
        {"allow": True, "type": "b", "major": major, "minor": minor, "access": "r"})
    bundle.config["mounts"].append({"destination": "/dev/blk", "type": "bind",
                                    "source": path, "options": ["bind"]})
    p = _run(rt, bundle, "head -c 1 /dev/blk > /dev/null 2>&1 && echo opened || echo denied")
    assert p.returncode == 0, p.stderr
    assert p.stdout.split() == ["opened"]


# -- /sys and /proc/sys read-only --------------------------------------------------------

def _sys_check(*paths: str) -> str:
    return (f"for f in {' '.join(paths)}; do "
            "touch $f 2>/dev/null && echo writable:$f; done; echo done")


SYS_CHECK = _sys_check("/sys/kernel/uevent_helper", "/proc/sys/kernel/hostname",
                       "/proc/sys/vm/drop_caches", "/proc/sysrq-trigger")


def test_sys_and_proc_sys_read_only_as_configured(rt, bundle):
    """The default config: /sys mounted ro, /proc/sys and /proc/sysrq-trigger in
    readonlyPaths. touch (a timestamp, harmless if it worked) must get EROFS;
    busybox's `test -w` is no use here: as root it says yes through a symlink."""
    p = _run(rt, bundle, SYS_CHECK)
    assert p.returncode == 0, p.stderr
    assert p.stdout.split() == ["done"]


@pytest.mark.skipif(not is_pyrunc(), reason="runc 1.1.5 leaves the cgroup tmpfs top writable")
def test_sys_fs_cgroup_read_only_as_configured(rt, bundle):
    """The cgroup mount carries "ro": its top directory is read-only too."""
    p = _run(rt, bundle, _sys_check("/sys/fs/cgroup", "/sys/fs/cgroup/memory"))
    assert p.returncode == 0, p.stderr
    assert p.stdout.split() == ["done"]


def test_sys_writable_when_configured_so(rt, bundle):
    """The control: without ro and readonlyPaths the same checks see writable files."""
    for m in bundle.config["mounts"]:
        if m["destination"] == "/sys":
            m["options"] = [o for o in m["options"] if o != "ro"]
    bundle.linux["readonlyPaths"] = []
    caps = bundle.process.setdefault("capabilities", {})
    p = _run(rt, bundle, SYS_CHECK)
    assert p.returncode == 0, p.stderr
    assert "writable:/proc/sys/kernel/hostname" in p.stdout.split(), (p.stdout, caps)


# -- setuid binaries under no_new_privs ---------------------------------------------------

EUID_C = r"""
#include <stdio.h>
#include <unistd.h>
int main(void) { printf("%d\n", (int)geteuid()); return 0; }
"""


@pytest.fixture(scope="session")
def euid_binary(tmp_path_factory) -> str:
    """A static program printing its effective uid (busybox drops a setuid euid itself)."""
    d = tmp_path_factory.mktemp("euid")
    (d / "euid.c").write_text(EUID_C)
    try:
        subprocess.run(["gcc", "-static", "-O", "-o", str(d / "euid"), str(d / "euid.c")],
                       check=True, capture_output=True, timeout=60)
    except (OSError, subprocess.CalledProcessError) as e:
        pytest.skip(f"cannot build a static test program: {e}")
    return str(d / "euid")


def _suid_bundle(bundle, euid_binary: str, nnp: bool):
    rootfs = bundle.own_rootfs()
    dest = os.path.join(rootfs, "bin", "euid")
    with open(euid_binary, "rb") as src, open(dest, "wb") as out:
        out.write(src.read())
    os.chown(dest, 0, 0)
    os.chmod(dest, 0o4755)
    bundle.process["user"] = {"uid": 65534, "gid": 65534}
    bundle.process["noNewPrivileges"] = nnp
    return bundle.args("/bin/euid")


def test_setuid_binary_gains_nothing_with_no_new_privs(rt, bundle, euid_binary):
    _suid_bundle(bundle, euid_binary, nnp=True)
    p = rt("run", "-b", bundle.path, bundle.id, timeout=60)
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == "65534"


def test_setuid_binary_works_without_no_new_privs(rt, bundle, euid_binary):
    """The control: the same binary does become root when no_new_privs is off."""
    _suid_bundle(bundle, euid_binary, nnp=False)
    p = rt("run", "-b", bundle.path, bundle.id, timeout=60)
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == "0"
