"""An unprivileged user (tests/rootless/user.sh) running pyrunc and runc on bundles it
owns; the test process stays root to look at what they did from outside."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import uuid

import pytest

from runtime.demo_bundle import make_rootfs
from spec.defaults import default_config
from tests.support import rootless
from tests.support.runtime import REPO, Runtime, under_test_and_runc

if shutil.which("newuidmap") is None:
    pytest.skip("newuidmap is not installed (Debian's uidmap: tests/setup.sh installs it)",
                allow_module_level=True)


@pytest.fixture(scope="session")
def user() -> str:
    """The user's name (made, with its subuid/subgid ranges, if missing)."""
    name = rootless.USER or "pyruncuser"
    subprocess.run(["bash", os.path.join(REPO, "tests", "rootless", "user.sh")], check=True,
                   stdout=subprocess.DEVNULL, env={**os.environ, "PYRUNC_ROOTLESS_USER": name})
    return name


class AsUser(Runtime):
    """A runtime run as the user; --root given only when `root` is not None."""

    def __init__(self, root: str | None, path: str, user: str) -> None:
        super().__init__(root or "", path)
        self.user = user

    def cmd(self, *args: str) -> list[str]:
        base = [self.path, "--root", self.root] if self.root else [self.path]
        return rootless.as_user([*base, *args], self.user)

    def wrap(self, cmd: list[str]) -> list[str]:
        return rootless.as_user(cmd, self.user)

    @property
    def default_root(self) -> str:
        name = "pyrunc" if os.path.basename(self.path).startswith("pyrunc") else "runc"
        return os.path.join(rootless.runtime_dir(rootless.entry(self.user)), name)


@pytest.fixture
def home(user):
    """A directory the user owns, removed after."""
    top = tempfile.mkdtemp(prefix="pyrunc-rl-", dir="/tmp")
    os.chmod(top, 0o755)
    rootless.give(top, user)
    yield top
    shutil.rmtree(top, ignore_errors=True)


@pytest.fixture(params=under_test_and_runc(), ids=os.path.basename)
def urt(request, user, home):
    """pyrunc, then runc, as the user with --root in its own directory."""
    r = AsUser(os.path.join(home, "state"), request.param, user)
    yield r
    r.cleanup()


class UserBundle:
    """`runc spec --rootless`'s config (the user's ids mapped to root) over a private
    busybox rootfs the user owns."""

    def __init__(self, home: str, user: str) -> None:
        self.id = f"rl-{uuid.uuid4().hex[:8]}"
        self.path = os.path.join(home, self.id)
        self.user = user
        os.makedirs(self.path)
        make_rootfs(os.path.join(self.path, "rootfs"))
        pw = rootless.entry(user)
        self.config = default_config(rootless=True)
        linux = self.config["linux"]
        linux["uidMappings"] = [{"containerID": 0, "hostID": pw.pw_uid, "size": 1}]
        linux["gidMappings"] = [{"containerID": 0, "hostID": pw.pw_gid, "size": 1}]
        self.config["process"]["terminal"] = False
        self.config["root"]["readonly"] = False
        self.sh("true")

    def sh(self, script: str) -> UserBundle:
        self.config["process"]["args"] = ["/bin/sh", "-c", script]
        return self.save()

    def save(self) -> UserBundle:
        import json

        with open(os.path.join(self.path, "config.json"), "w") as f:
            json.dump(self.config, f, indent=1)
        rootless.give(self.path, self.user)
        return self


@pytest.fixture
def ubundle(home, user) -> UserBundle:
    return UserBundle(home, user)
