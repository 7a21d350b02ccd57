"""Containers through the systemd driver: the unit, its cgroup and the limits,
pyrunc and runc side by side, on the unified and the legacy-hierarchy guest."""

from __future__ import annotations

import os
import signal
import subprocess
import tempfile
import time

import pytest

from tests.support.runtime import Runtime, binary
from tests.systemd.conftest import our_units, show, systemctl, unified

MiB = 1 << 20


def cg_dir(unit: str, controller: str = "") -> str:
    group = show(unit, "ControlGroup")["ControlGroup"]
    assert group, f"{unit} has no control group"
    if unified():
        return "/sys/fs/cgroup" + group
    return f"/sys/fs/cgroup/{controller}{group}"


def read(directory: str, name: str) -> str:
    with open(os.path.join(directory, name)) as f:
        return f.read().strip()


def init_cgroups(pid: int) -> str:
    with open(f"/proc/{pid}/cgroup") as f:
        return f.read()


def root_block_device() -> tuple[int, int]:
    st = os.stat("/")
    return os.major(st.st_dev), os.minor(st.st_dev)


def whole_disk(major: int, minor: int) -> tuple[int, int]:
    """The disk of a partition (throttling is per disk)."""
    link = os.path.realpath(f"/sys/dev/block/{major}:{minor}")
    if os.path.exists(os.path.join(link, "partition")):
        with open(os.path.join(os.path.dirname(link), "dev")) as f:
            a, b = f.read().strip().split(":")
            return int(a), int(b)
    return major, minor


def is_pyrunc(rt) -> bool:
    return os.path.basename(rt.path).startswith("pyrunc")


def test_create_makes_a_delegated_scope_holding_the_init(sd_rt, sd_bundle):
    sd_bundle.args("/bin/sleep", "100")
    sd_rt("create", sd_bundle.id, cwd=sd_bundle.path, check=True)
    pid = sd_rt.state(sd_bundle.id)["pid"]
    props = show(sd_bundle.unit, "ActiveState", "Slice", "Delegate", "DefaultDependencies",
                 "MemoryAccounting", "CPUAccounting", "TasksAccounting", "ControlGroup",
                 "Description")
    assert props["ActiveState"] == "active"
    assert props["Slice"] == "system.slice"
    assert props["Delegate"] == "yes"
    assert props["MemoryAccounting"] == props["CPUAccounting"] == "yes"
    assert props["TasksAccounting"] == "yes"
    assert props["ControlGroup"] == f"/system.slice/{sd_bundle.unit}"
    assert props["Description"] == f"libcontainer container {sd_bundle.id}"
    assert f"/system.slice/{sd_bundle.unit}\n" in init_cgroups(pid)
    assert sd_bundle.unit in systemctl("list-units", "--all", "--plain", "--no-legend",
                                       "*.scope")
    sd_rt("start", sd_bundle.id, check=True)
    assert sd_rt.status(sd_bundle.id) == "running"
    sd_rt("delete", "--force", sd_bundle.id, check=True)
    assert our_units() == []
    assert not os.path.exists(cg_dir_of_unit_path(sd_bundle.unit))


def cg_dir_of_unit_path(unit: str) -> str:
    base = "/sys/fs/cgroup" if unified() else "/sys/fs/cgroup/memory"
    return f"{base}/system.slice/{unit}"


def test_empty_cgroups_path_gives_runc_defaults(sd_rt, sd_bundle):
    del sd_bundle.linux["cgroupsPath"]
    sd_bundle.args("/bin/sleep", "100").save()
    unit = f"runc-{sd_bundle.id}.scope"
    sd_rt("create", sd_bundle.id, cwd=sd_bundle.path, check=True)
    try:
        assert show(unit, "ActiveState", "Slice") == {"ActiveState": "active",
                                                      "Slice": "system.slice"}
    finally:
        sd_rt("delete", "--force", sd_bundle.id, check=True)
    assert "could not be found" in systemctl("status", unit, check=False) + \
        subprocess.run(["systemctl", "status", unit], capture_output=True,
                       text=True).stderr


RESOURCES = {
    "memory": {"limit": 96 * MiB, "reservation": 32 * MiB, "swap": 160 * MiB},
    "cpu": {"shares": 512, "quota": 25000, "period": 100000, "cpus": "0", "mems": "0"},
    "pids": {"limit": 42},
}


def test_resources_are_unit_properties_and_in_the_files(sd_rt, sd_bundle):
    res = dict(RESOURCES)
    major, minor = whole_disk(*root_block_device())
    # v1 has a weight file only with the BFQ scheduler (the guest's disk has none).
    weight = unified() or os.path.exists("/sys/fs/cgroup/blkio/blkio.bfq.weight")
    res["blockIO"] = {**({"weight": 500} if weight else {}),
                      "throttleReadBpsDevice": [{"major": major, "minor": minor,
                                                 "rate": 2 * MiB}],
                      "throttleWriteIOPSDevice": [{"major": major, "minor": minor,
                                                   "rate": 120}]}
    sd_bundle.linux["resources"] = {**sd_bundle.linux.get("resources", {}), **res}
    sd_bundle.args("/bin/sleep", "100").save()
    sd_rt("create", sd_bundle.id, cwd=sd_bundle.path, check=True)
    unit = sd_bundle.unit
    if unified():
        p = show(unit, "MemoryMax", "MemoryLow", "MemorySwapMax", "CPUWeight",
                 "CPUQuotaPerSecUSec", "CPUQuotaPeriodUSec", "AllowedCPUs",
                 "AllowedMemoryNodes", "TasksMax", "IOWeight", "IOReadBandwidthMax",
                 "IOWriteIOPSMax", "DevicePolicy")
        assert p["MemoryMax"] == str(96 * MiB)
        assert p["MemoryLow"] == str(32 * MiB)
        assert p["MemorySwapMax"] == str(64 * MiB)
        assert p["CPUWeight"] == "20"                 # runc's shares -> weight
        assert p["CPUQuotaPerSecUSec"] == "250ms"
        assert p["CPUQuotaPeriodUSec"] == "100ms"
        assert p["AllowedCPUs"] == "0"
        assert p["AllowedMemoryNodes"] == "0"
        assert p["TasksMax"] == "42"
        if is_pyrunc(sd_rt):  # runc sets no IO properties on v2 (systemd could reset them)
            assert p["IOWeight"] == "4950"
            assert p["IOReadBandwidthMax"].endswith(f"{2 * MiB}")
            assert p["IOWriteIOPSMax"].endswith("120")
        assert p["DevicePolicy"] == "strict"
        d = cg_dir(unit)
        assert read(d, "memory.max") == str(96 * MiB)
        assert read(d, "memory.low") == str(32 * MiB)
        assert read(d, "memory.swap.max") == str(64 * MiB)
        assert read(d, "cpu.weight") == "20"
        assert read(d, "cpu.max") == "25000 100000"
        assert read(d, "cpuset.cpus") == "0"
        assert read(d, "cpuset.mems") == "0"
        assert read(d, "pids.max") == "42"
        io_max = read(d, "io.max")
        assert f"{major}:{minor} rbps={2 * MiB}" in io_max and "wiops=120" in io_max
        weight = read(d, "io.weight") if os.path.exists(f"{d}/io.weight") else ""
        bfq = read(d, "io.bfq.weight") if os.path.exists(f"{d}/io.bfq.weight") else ""
        assert "4950" in weight or "500" in bfq, (weight, bfq)
    else:
        p = show(unit, "MemoryLimit", "CPUShares", "CPUQuotaPerSecUSec", "TasksMax",
                 "BlockIOReadBandwidth", "DevicePolicy")
        assert p["MemoryLimit"] == str(96 * MiB)
        assert p["CPUShares"] == "512"
        assert p["CPUQuotaPerSecUSec"] == "250ms"
        assert p["TasksMax"] == "42"
        if is_pyrunc(sd_rt):
            assert p["BlockIOReadBandwidth"].endswith(f"{2 * MiB}")
        assert p["DevicePolicy"] == "strict"
        assert read(cg_dir(unit, "memory"), "memory.limit_in_bytes") == str(96 * MiB)
        assert read(cg_dir(unit, "memory"), "memory.soft_limit_in_bytes") == str(32 * MiB)
        assert read(cg_dir(unit, "memory"), "memory.memsw.limit_in_bytes") == str(160 * MiB) \
            if os.path.exists(cg_dir(unit, "memory") + "/memory.memsw.limit_in_bytes") else True
        assert read(cg_dir(unit, "cpu"), "cpu.shares") == "512"
        assert read(cg_dir(unit, "cpu"), "cpu.cfs_quota_us") == "25000"
        assert read(cg_dir(unit, "cpuset"), "cpuset.cpus") == "0"
        assert read(cg_dir(unit, "pids"), "pids.max") == "42"
        assert f"{major}:{minor} {2 * MiB}" in read(cg_dir(unit, "blkio"),
                                                     "blkio.throttle.read_bps_device")
        pid = sd_rt.state(sd_bundle.id)["pid"]
        cgs = init_cgroups(pid)
        for ctrl in ("memory", "cpu,cpuacct", "pids", "blkio", "devices", "freezer",
                     "cpuset"):
            assert f":{ctrl}:/system.slice/{unit}\n" in cgs, (ctrl, cgs)
    sd_rt("delete", "--force", sd_bundle.id, check=True)


def test_device_rules_are_the_unit_policy(sd_rt, sd_bundle):
    sd_bundle.args("/bin/sleep", "100").save()
    sd_rt("create", sd_bundle.id, cwd=sd_bundle.path, check=True)
    assert show(sd_bundle.unit, "DevicePolicy")["DevicePolicy"] == "strict"
    # One DeviceAllow= line per entry.
    allow = systemctl("show", sd_bundle.unit, "-p", "DeviceAllow", "--value").splitlines()
    for dev in ("/dev/char/1:3 rwm", "/dev/char/1:5 rwm"):  # null, zero
        assert dev in allow, allow
    # /dev/pts/*: by major for systemd >= 240 (pyrunc, runc 1.2), by group name (runc 1.1)
    assert "char-136 rwm" in allow or "char-pts rwm" in allow, allow
    out = sd_rt("exec", sd_bundle.id, "/bin/sh", "-c", "head -c1 /dev/zero | wc -c",
                check=True).stdout
    assert out.strip() == "1"
    sd_rt("delete", "--force", sd_bundle.id, check=True)


def test_cpu_quota_rounded_as_runc(sd_rt, sd_bundle):
    sd_bundle.linux["resources"] = {"cpu": {"quota": 12345, "period": 100000}}
    sd_bundle.args("/bin/sleep", "100").save()
    sd_rt("create", sd_bundle.id, cwd=sd_bundle.path, check=True)
    assert show(sd_bundle.unit, "CPUQuotaPerSecUSec")["CPUQuotaPerSecUSec"] == "130ms"
    f = "cpu.max" if unified() else "cpu.cfs_quota_us"
    d = cg_dir(sd_bundle.unit, "cpu")
    # runc >= 1.2 writes the rounded quota too (so systemd and the file agree);
    # runc 1.1.5, Debian 12's, writes the requested one.
    wanted = ("13000",) if is_pyrunc(sd_rt) else ("13000", "12345")
    assert read(d, f).split()[0] in wanted
    sd_rt("delete", "--force", sd_bundle.id, check=True)


def test_update_sets_unit_properties_then_files(sd_rt, sd_bundle):
    sd_bundle.linux["resources"] = {"memory": {"limit": 64 * MiB}, "pids": {"limit": 20}}
    sd_bundle.args("/bin/sleep", "100").save()
    sd_rt("create", sd_bundle.id, cwd=sd_bundle.path, check=True)
    sd_rt("update", "--memory", str(128 * MiB), "--pids-limit", "30", "--cpu-quota", "50000",
          "--cpu-period", "100000", sd_bundle.id, check=True)
    unit = sd_bundle.unit
    if unified():
        p = show(unit, "MemoryMax", "TasksMax", "CPUQuotaPerSecUSec")
        assert p == {"MemoryMax": str(128 * MiB), "TasksMax": "30",
                     "CPUQuotaPerSecUSec": "500ms"}
        d = cg_dir(unit)
        assert read(d, "memory.max") == str(128 * MiB)
        assert read(d, "pids.max") == "30"
        assert read(d, "cpu.max") == "50000 100000"
    else:
        p = show(unit, "MemoryLimit", "TasksMax", "CPUQuotaPerSecUSec")
        assert p == {"MemoryLimit": str(128 * MiB), "TasksMax": "30",
                     "CPUQuotaPerSecUSec": "500ms"}
        assert read(cg_dir(unit, "memory"), "memory.limit_in_bytes") == str(128 * MiB)
        assert read(cg_dir(unit, "pids"), "pids.max") == "30"
    sd_rt("delete", "--force", sd_bundle.id, check=True)


def test_pause_resume_ps_events(sd_rt, sd_bundle):
    sd_bundle.args("/bin/sleep", "100").save()
    sd_rt("run", "-d", sd_bundle.id, cwd=sd_bundle.path, check=True,
          stdin=subprocess.DEVNULL)
    pid = sd_rt.state(sd_bundle.id)["pid"]
    ps = sd_rt("ps", "--format", "json", sd_bundle.id, check=True).stdout
    assert str(pid) in ps
    sd_rt("pause", sd_bundle.id, check=True)
    assert sd_rt.status(sd_bundle.id) == "paused"
    sd_rt("resume", sd_bundle.id, check=True)
    assert sd_rt.status(sd_bundle.id) == "running"
    sd_rt("exec", "-d", sd_bundle.id, "/bin/sleep", "60", check=True)
    procs = read(cg_dir(sd_bundle.unit, "pids"), "cgroup.procs").split()
    assert len(procs) == 2 and str(pid) in procs, procs  # the exec'd process joined
    ev = sd_rt("events", "--stats", sd_bundle.id, check=True).stdout
    assert '"pids"' in ev and '"memory"' in ev
    sd_rt("kill", sd_bundle.id, "KILL", check=True)
    sd_rt.wait_status(sd_bundle.id, "stopped")
    sd_rt("delete", sd_bundle.id, check=True)
    assert our_units() == []


def test_nested_slice_is_created(sd_rt, sd_bundle):
    slice_ = f"sdtest-{sd_bundle.id[2:]}-inner.slice"
    sd_bundle.linux["cgroupsPath"] = f"{slice_}:sdtest:{sd_bundle.id}"
    sd_bundle.args("/bin/sleep", "100").save()
    try:
        sd_rt("create", sd_bundle.id, cwd=sd_bundle.path, check=True)
        group = show(sd_bundle.unit, "ControlGroup")["ControlGroup"]
        assert group == (f"/sdtest.slice/sdtest-{sd_bundle.id[2:]}.slice/{slice_}/"
                         f"{sd_bundle.unit}")
        pid = sd_rt.state(sd_bundle.id)["pid"]
        assert group in init_cgroups(pid)
        sd_rt("delete", "--force", sd_bundle.id, check=True)
    finally:
        systemctl("stop", "sdtest.slice", check=False)


def test_annotations_set_unit_properties(sd_rt, sd_bundle):
    sd_bundle.config["annotations"] = {
        "org.systemd.property.TimeoutStopSec": "uint64 123",
        "org.systemd.property.CollectMode": "'inactive-or-failed'"}
    sd_bundle.args("/bin/sleep", "100").save()
    sd_rt("create", sd_bundle.id, cwd=sd_bundle.path, check=True)
    p = show(sd_bundle.unit, "TimeoutStopUSec", "CollectMode")
    assert p == {"TimeoutStopUSec": "2min 3s", "CollectMode": "inactive-or-failed"}
    sd_rt("delete", "--force", sd_bundle.id, check=True)


# -- errors: one line, non-zero, nothing left ------------------------------------

def test_unit_that_exists_already(sd_rt, sd_bundle):
    """pyrunc refuses a unit name that is taken (runc 1.1.5 warns and puts the
    container into the other unit's cgroup)."""
    foreign = subprocess.Popen(["systemd-run", "--scope", f"--unit={sd_bundle.unit}",
                                "sleep", "100"], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while show(sd_bundle.unit, "ActiveState")["ActiveState"] != "active":
            assert time.monotonic() < deadline
            time.sleep(0.1)
        sd_bundle.args("/bin/sleep", "100").save()
        p = sd_rt("create", sd_bundle.id, cwd=sd_bundle.path, timeout=120)
        if not is_pyrunc(sd_rt):
            assert p.returncode == 0 and "cgroup is not empty" in p.stderr, p.stderr
            sd_rt("delete", "--force", sd_bundle.id, check=True, timeout=120)
            return
        assert p.returncode != 0
        assert f'unable to start unit \\"{sd_bundle.unit}\\": Unit {sd_bundle.unit} was ' \
               "already loaded" in p.stderr, p.stderr
        assert len(p.stderr.strip().splitlines()) == 1, p.stderr
        assert sd_bundle.id not in sd_rt.ids()
        assert not os.path.exists(os.path.join(sd_rt.root, sd_bundle.id))
        # The other unit is untouched.
        assert show(sd_bundle.unit, "ActiveState")["ActiveState"] == "active"
    finally:
        foreign.kill()
        foreign.wait()
        systemctl("stop", sd_bundle.unit, check=False)
        systemctl("reset-failed", sd_bundle.unit, check=False)


def test_refused_property(sd_rt, sd_bundle):
    sd_bundle.config["annotations"] = {"org.systemd.property.NoSuchThing": "true"}
    sd_bundle.args("/bin/sleep", "100").save()
    p = sd_rt("create", sd_bundle.id, cwd=sd_bundle.path)
    assert p.returncode != 0
    assert "NoSuchThing" in p.stderr, p.stderr
    if is_pyrunc(sd_rt):
        assert len(p.stderr.strip().splitlines()) == 1, p.stderr
    assert sd_bundle.id not in sd_rt.ids()
    assert our_units() == []


NO_BUS = {"DBUS_SYSTEM_BUS_ADDRESS": "unix:path=/nonexistent/bus"}


def test_without_the_bus_daemon_root_talks_to_systemd_directly(sd_rt, sd_bundle):
    """As runc (go-systemd): the system bus unreachable, /run/systemd/private."""
    sd_bundle.args("/bin/sleep", "100").save()
    sd_rt("create", sd_bundle.id, cwd=sd_bundle.path, env={**os.environ, **NO_BUS},
          check=True)
    assert show(sd_bundle.unit, "ActiveState")["ActiveState"] == "active"
    sd_rt("delete", "--force", sd_bundle.id, env={**os.environ, **NO_BUS}, check=True)
    assert our_units() == []


def without_systemd(sd_rt, *args: str, cwd: str | None = None) -> subprocess.CompletedProcess:
    """The runtime with neither the bus nor systemd's private socket reachable."""
    hide = 'mount --bind /dev/null /run/systemd/private && exec "$@"'
    cmd = ["unshare", "-m", "--propagation", "private", "sh", "-c", hide, "sh",
           *sd_rt.cmd(*args)]
    # A file, not a pipe, for stderr: a create's init would hold a pipe open.
    with tempfile.TemporaryFile("w+") as err:
        p = subprocess.run(cmd, cwd=cwd, env={**os.environ, **NO_BUS},
                           stdout=subprocess.DEVNULL, stderr=err, text=True, timeout=180)
        err.seek(0)
        return subprocess.CompletedProcess(cmd, p.returncode, "", err.read())


def test_systemd_unreachable(sd_rt, sd_bundle):
    """Neither the bus nor systemd's private socket: one line, nothing left."""
    p = without_systemd(sd_rt, "create", sd_bundle.id, cwd=sd_bundle.path)
    assert p.returncode != 0
    assert "/nonexistent/bus" in p.stderr or "private" in p.stderr, p.stderr
    if is_pyrunc(sd_rt):
        assert "dbus: cannot connect to the system bus at /nonexistent/bus nor to " \
               "systemd at /run/systemd/private" in p.stderr, p.stderr
        assert len(p.stderr.strip().splitlines()) == 1, p.stderr
    assert sd_bundle.id not in sd_rt.ids()
    assert not os.path.exists(os.path.join(sd_rt.root, sd_bundle.id))
    assert our_units() == []


def test_delete_after_systemd_dropped_the_unit_needs_no_bus(sd_rt, sd_bundle):
    """The container's process exited, systemd stopped its empty scope and let it
    go: delete has nothing to ask systemd, and pyrunc does not reach for D-Bus."""
    sd_bundle.args("/bin/true").save()
    sd_rt("run", "-d", sd_bundle.id, cwd=sd_bundle.path, check=True)
    deadline = time.monotonic() + 120
    while our_units() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert our_units() == []
    assert sd_rt.state(sd_bundle.id)["status"] == "stopped"
    p = without_systemd(sd_rt, "delete", sd_bundle.id)
    if is_pyrunc(sd_rt):
        assert p.returncode == 0, p.stderr
        assert sd_bundle.id not in sd_rt.ids()
    elif sd_bundle.id in sd_rt.ids():
        sd_rt("delete", sd_bundle.id, check=True)


def rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/smaps_rollup") as f:
        for line in f:
            if line.startswith("Rss:"):
                return int(line.split()[1])
    raise AssertionError(f"no Rss for {pid}")


@pytest.mark.parametrize("sd_rt", [binary()], indirect=True, ids=os.path.basename)
def test_the_waiting_init_is_no_bigger_with_systemd(sd_rt, sd_bundle, tmp_path):
    """systemd is reached once the init is cloned (runc's order): the waiting init
    holds no copy of the runtime's D-Bus client.  Its RSS with --systemd-cgroup
    is within 1 MiB of its RSS without (pyrunc's was 2.7 MiB more).  pyrunc's own
    property: runc's init is a fresh exec of runc whose RSS moves with Go's runtime
    (13.1 against 10.8 MiB in one guest run, within 1 MiB in another)."""
    if not is_pyrunc(sd_rt):
        pytest.skip("runc under test: its init holds no copy of its parent, and its RSS "
                    "varies with Go's runtime, not with the driver")
    sd_bundle.args("/bin/true").save()
    sd_rt("create", sd_bundle.id, cwd=sd_bundle.path, check=True)
    with_systemd = rss_kib(sd_rt.state(sd_bundle.id)["pid"])
    sd_rt("delete", "--force", sd_bundle.id, check=True)

    plain = Runtime(str(tmp_path / "plain-root"), sd_rt.path)
    sd_bundle.linux["cgroupsPath"] = f"/sdtest-plain-{sd_bundle.id}"
    sd_bundle.save()
    try:
        plain("create", sd_bundle.id, cwd=sd_bundle.path, check=True)
        without = rss_kib(plain.state(sd_bundle.id)["pid"])
    finally:
        plain.cleanup()
    assert with_systemd <= without + 1024, (with_systemd, without)


def test_sigkill_mid_create_then_delete_force(sd_rt, sd_bundle, tmp_path):
    """The runtime killed while a createRuntime hook runs (the unit exists, the
    init waits): delete --force removes the unit."""
    gate = tmp_path / "hook-ran"
    sd_bundle.config["hooks"] = {"createRuntime": [
        {"path": "/bin/sh", "args": ["sh", "-c", f"touch {gate}; sleep 60"]}]}
    sd_bundle.args("/bin/sleep", "100").save()
    proc = subprocess.Popen(sd_rt.cmd("create", sd_bundle.id), cwd=sd_bundle.path,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while not gate.exists():
            assert time.monotonic() < deadline, "the hook never ran"
            assert proc.poll() is None, "create ended early"
            time.sleep(0.05)
        assert show(sd_bundle.unit, "ActiveState")["ActiveState"] == "active"
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # the hook's sleep
        except ProcessLookupError:
            pass
    p = sd_rt("delete", "--force", sd_bundle.id)
    assert p.returncode == 0 or "does not exist" in p.stderr, p.stderr
    deadline = time.monotonic() + 10
    while our_units() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert our_units() == []
