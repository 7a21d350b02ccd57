"""The rootless lane: with PYRUNC_TEST_AS_USER=<name> (tests/rootless/run.sh sets it),
every runtime command of the shared fixtures runs as that unprivileged user, with
its XDG_RUNTIME_DIR, on bundles it owns with runc's rootless config.  The test
process itself stays root, to look at what the runtime did from outside.

Tests that cannot make sense without root carry `@pytest.mark.needs_root("why")`;
the lane skips them with that reason (docs/rootless.md lists them)."""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import subprocess
import time

USER = os.environ.get("PYRUNC_TEST_AS_USER") or None
SETPRIV = shutil.which("setpriv") or "/usr/bin/setpriv"


def active() -> bool:
    return USER is not None


def entry(name: str | None = None) -> pwd.struct_passwd:
    return pwd.getpwnam(name or USER)


def runtime_dir(pw: pwd.struct_passwd) -> str:
    """/run/user/<uid>, 0700 and the user's, as logind's pam_systemd makes it."""
    path = f"/run/user/{pw.pw_uid}"
    os.makedirs("/run/user", 0o755, exist_ok=True)
    if not os.path.isdir(path):
        os.mkdir(path, 0o700)
        os.chown(path, pw.pw_uid, pw.pw_gid)
    return path


@contextlib.contextmanager
def lingering(name: str | None = None):
    """The user's systemd instance as a login starts it (systemd hosts only):
    `loginctl enable-linger` gives /run/user/<uid>/bus and the subtree systemd
    delegates to the user, which this yields; undone after unless the user
    lingered before."""
    pw = entry(name)
    uid = pw.pw_uid
    service = f"/sys/fs/cgroup/user.slice/user-{uid}.slice/user@{uid}.service"
    had = os.path.exists(f"/var/lib/systemd/linger/{pw.pw_name}")
    subprocess.run(["loginctl", "enable-linger", pw.pw_name], check=True)
    try:
        deadline = time.monotonic() + 120
        while not (os.path.exists(f"/run/user/{uid}/bus") and os.path.isdir(service)):
            if time.monotonic() > deadline:
                raise RuntimeError(f"user@{uid}.service did not start (loginctl enable-linger)")
            time.sleep(0.5)
        yield service
    finally:
        if not had:
            subprocess.run(["loginctl", "disable-linger", pw.pw_name], check=False)


def as_user(cmd: list[str], name: str | None = None) -> list[str]:
    """cmd run as the user: its uid, gid and groups, and the environment a login gives
    (runc and pyrunc take their default --root from XDG_RUNTIME_DIR)."""
    pw = entry(name)
    return [SETPRIV, "--reuid", str(pw.pw_uid), "--regid", str(pw.pw_gid), "--init-groups",
            "--inh-caps=-all", "--",
            "/usr/bin/env", f"XDG_RUNTIME_DIR={runtime_dir(pw)}", f"HOME={pw.pw_dir}",
            f"USER={pw.pw_name}", f"LOGNAME={pw.pw_name}", *cmd]


def give(path: str, name: str | None = None) -> None:
    """Make path (recursively) the user's, and let the user reach it."""
    pw = entry(name)
    for top, dirs, files in os.walk(path):
        os.lchown(top, pw.pw_uid, pw.pw_gid)
        for f in dirs + files:
            os.lchown(os.path.join(top, f), pw.pw_uid, pw.pw_gid)
    reachable(os.path.dirname(path))


def reachable(path: str) -> None:
    """o+x on path and every directory above it (pytest makes its temp dirs 0700)."""
    path = os.path.abspath(path)
    while path != "/":
        mode = os.stat(path).st_mode
        if not mode & 0o001:
            os.chmod(path, (mode & 0o7777) | 0o001)
        path = os.path.dirname(path)


def rootless_config(config: dict) -> dict:
    """The changes `spec --rootless` makes, over a root config (the caller's uid and gid
    mapped to root, no network namespace, /sys bound from the host, no cgroup mount,
    no uid/gid mount options); cgroupsPath dropped, as rootless runc on cgroup v1
    can only use none (it then ignores the cgroups it cannot write)."""
    from spec.defaults import default_config

    pw = entry()
    rl = default_config(rootless=True)
    config["mounts"] = rl["mounts"]
    linux = config["linux"]
    linux["namespaces"] = rl["linux"]["namespaces"]
    # As rootless podman maps them: the user's own ids to root, its subordinate
    # ranges above (newuidmap/newgidmap write them), so that tests may run the
    # container's process as uid 1000 or 65534.
    linux["uidMappings"] = [{"containerID": 0, "hostID": pw.pw_uid, "size": 1},
                            {"containerID": 1, "hostID": subid_start("/etc/subuid"),
                             "size": 65536}]
    linux["gidMappings"] = [{"containerID": 0, "hostID": pw.pw_gid, "size": 1},
                            {"containerID": 1, "hostID": subid_start("/etc/subgid"),
                             "size": 65536}]
    linux.pop("resources", None)
    linux.pop("cgroupsPath", None)
    return config


def subid_start(path: str, name: str | None = None) -> int:
    """The first of the user's subordinate ids in /etc/subuid or /etc/subgid."""
    name = name or USER
    with open(path) as f:
        for line in f:
            fields = line.strip().split(":")
            if len(fields) == 3 and fields[0] == name:
                return int(fields[1])
    raise LookupError(f"{name} has no range in {path} (tests/rootless/user.sh makes one)")


def dedupe_user_namespace(config: dict) -> None:
    """A test that adds its own user namespace to the lane's config (which has one):
    keep the test's."""
    nss = config["linux"]["namespaces"]
    users = [i for i, n in enumerate(nss) if n.get("type") == "user"]
    for i in reversed(users[:-1]):
        del nss[i]
