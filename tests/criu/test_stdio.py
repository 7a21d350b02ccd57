"""A container's stdio that is the host's /dev/null becomes the container's own
/dev/null after the pivot (runc's reOpenDevNull): criu cannot dump a file outside
the container's mounts, and podman gives a detached container /dev/null."""

from __future__ import annotations

import os
import subprocess


def test_dev_null_stdio_is_the_containers(any_rt, bundle):
    bundle.args("/bin/sleep", "100")
    subprocess.run(any_rt.cmd("run", "-d", "-b", bundle.path, bundle.id), check=True,
                   stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, timeout=60)
    pid = any_rt.state(bundle.id)["pid"]
    host = os.stat("/dev/null")
    for fd in range(3):
        st = os.stat(f"/proc/{pid}/fd/{fd}")
        assert st.st_rdev == host.st_rdev                      # still a /dev/null ...
        assert (st.st_dev, st.st_ino) != (host.st_dev, host.st_ino)  # ... the container's
