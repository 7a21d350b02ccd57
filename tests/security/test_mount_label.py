"""linux.mountLabel on a host without SELinux: ignored, as crun and go-selinux's
FormatMountLabel do (the runtime-tools suite's linux_mount_label).  runc 1.1.5 passes
context= to the kernel anyway and fails the tmpfs mount, so this runs against pyrunc
only."""

from __future__ import annotations

import pytest

from runtime.process import lsm
from tests.security.helpers import output, runc_lacks

pytestmark = [
    pytest.mark.skipif(lsm.selinux_enabled(), reason="SELinux is enabled: the label applies"),
    runc_lacks("ignoring linux.mountLabel without SELinux (it fails the /dev tmpfs mount)"),
]


def test_mount_label_without_selinux_is_ignored(rt, bundle):
    bundle.linux["mountLabel"] = "system_u:object_r:svirt_sandbox_file_t:s0:c715,c811"
    bundle.linux["maskedPaths"] = ["/proc/kcore", "/proc/acpi"]
    out = output(rt, bundle.save(), "grep ' /dev ' /proc/self/mounts; echo ok")
    assert "context=" not in out and out.splitlines()[-1] == "ok"
