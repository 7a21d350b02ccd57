"""Property tests: `create` fed configs and bundles generated from our JSON Schema
and around it. For every input either the container runs (and is deleted), or the
runtime prints one clear line and exits non-zero; never a traceback, an "internal
error", a hang, or anything left behind (state dir, cgroup in any hierarchy,
mount, process).

Bounded by default (well under two minutes); PYRUNC_FUZZ_EXAMPLES=1000 for a long
run. Hooks, namespace paths, netDevices, sysctl, cgroupsPath and unified are
never generated: they reach the host by design (running host programs, joining
host namespaces, moving host interfaces, choosing the cgroup), and so are tested
by hand elsewhere, not by a fuzzer.
"""

from __future__ import annotations

import copy
import json
import os
import time
import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.robustness.leftovers import error_lines, found
from tests.robustness.schema_values import EDGE_STRINGS, Schema

EXAMPLES = int(os.environ.get("PYRUNC_FUZZ_EXAMPLES", "0"))
STATS: dict[str, int] = {}

SCHEMA = Schema()

# Dotted config paths the fuzzer may replace (schema-valid or just outside).
TARGETS = [
    "ociVersion", "root.readonly", "hostname", "domainname", "annotations",
    "process.args", "process.env", "process.cwd", "process.user", "process.capabilities",
    "process.rlimits", "process.noNewPrivileges", "process.oomScoreAdj", "process.scheduler",
    "process.ioPriority", "process.apparmorProfile", "process.selinuxLabel",
    "process.consoleSize", "process.execCPUAffinity", "process.terminal",
    "linux.resources.memory", "linux.resources.cpu", "linux.resources.pids",
    "linux.resources.blockIO", "linux.resources.hugepageLimits", "linux.resources.network",
    "linux.resources.devices", "linux.resources.rdma", "linux.devices", "linux.maskedPaths",
    "linux.readonlyPaths", "linux.mountLabel", "linux.rootfsPropagation", "linux.seccomp",
    "linux.personality", "linux.memoryPolicy", "linux.uidMappings", "linux.gidMappings",
    "linux.timeOffsets",
]

MOUNT_TYPES = ["tmpfs", "proc", "sysfs", "mqueue", "devpts", "cgroup", "bind", "", "bogusfs"]
MOUNT_OPTIONS = ["ro", "rw", "nosuid", "nodev", "noexec", "bind", "rbind", "shared", "rshared",
                 "private", "rslave", "unbindable", "size=1k", "mode=0777", "mode=99999",
                 "remount", "idmap", "rro", "strictatime", "nosymfollow", "tmpcopyup",
                 "bogus", "", "uid=0", "nr_inodes=1"]


def fuzz_settings(default: int):
    return settings(max_examples=EXAMPLES or default, deadline=None, database=None,
                    suppress_health_check=list(HealthCheck), print_blob=True)


@st.composite
def mutation(draw) -> tuple[str, object]:
    path = draw(st.sampled_from(TARGETS))
    node, doc = SCHEMA.node(path)
    gen = SCHEMA.valid(node, doc) if draw(st.integers(0, 3)) else SCHEMA.around(node, doc)
    return path, draw(gen)


@st.composite
def mount(draw, bind_dir: str) -> dict:
    kind = draw(st.sampled_from(MOUNT_TYPES))
    m: dict = {"destination": draw(st.sampled_from(EDGE_STRINGS) | st.text(max_size=12)),
               "type": kind,
               "options": draw(st.lists(st.sampled_from(MOUNT_OPTIONS), max_size=4))}
    if kind == "bind" or "bind" in m["options"] or "rbind" in m["options"]:
        # Host paths only of our own, or none at all.
        m["source"] = draw(st.sampled_from([bind_dir, bind_dir + "/file", "relative-source",
                                            "/nonexistent/source", ""]))
    else:
        m["source"] = draw(st.sampled_from([kind or "none", "none", ""]))
    if draw(st.integers(0, 9)) == 0:
        del m[draw(st.sampled_from(["destination", "type", "options", "source"]))]
    return m


def set_path(config: dict, path: str, value: object) -> None:
    keys = path.split(".")
    node = config
    for k in keys[:-1]:
        if not isinstance(node.get(k), dict):
            node[k] = {}
        node = node[k]
    node[keys[-1]] = value


class Harness:
    """One bundle directory per example; runs create (and start, delete) and checks."""

    def __init__(self, rt, rootfs: str, tmp_path, cgroup_parent: str) -> None:
        self.rt = rt
        self.rootfs = rootfs
        self.base = str(tmp_path)
        self.cgroup_parent = cgroup_parent
        self.bind_dir = os.path.join(self.base, "bind-src")
        os.makedirs(self.bind_dir, exist_ok=True)
        with open(os.path.join(self.bind_dir, "file"), "w") as f:
            f.write("x")

    def base_config(self, cid: str) -> dict:
        from spec.defaults import default_config

        config = default_config()
        config["root"] = {"path": self.rootfs, "readonly": True}
        config["process"]["terminal"] = False
        config["process"]["args"] = ["/bin/true"]
        config["linux"]["cgroupsPath"] = f"{self.cgroup_parent}/{cid}"
        return config

    def new_bundle(self) -> tuple[str, str]:
        cid = f"fz-{uuid.uuid4().hex[:10]}"
        path = os.path.join(self.base, cid)
        os.makedirs(path)
        return cid, path

    def check(self, cid: str, bundle: str, kind: str) -> None:
        """Create; if that works, start, wait and delete. Then nothing may be left."""
        began = time.monotonic()
        p = self.rt("create", "--bundle", bundle, cid, timeout=60)
        self._clean_output(p, "create")
        if p.returncode == 0:
            STATS[f"{kind}: ran"] = STATS.get(f"{kind}: ran", 0) + 1
            q = self.rt("start", cid, timeout=60)
            self._clean_output(q, "start")
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                s = self.rt("state", cid, timeout=60)
                if s.returncode != 0 or json.loads(s.stdout)["status"] == "stopped":
                    break
                time.sleep(0.05)
            d = self.rt("delete", "--force", cid, timeout=60)
            assert d.returncode == 0, d.stderr
        else:
            STATS[f"{kind}: refused"] = STATS.get(f"{kind}: refused", 0) + 1
            lines = error_lines(p.stderr)
            assert len(lines) == 1, p.stderr
            if os.environ.get("PYRUNC_FUZZ_LOG"):  # the refusals, to read them
                with open(os.environ["PYRUNC_FUZZ_LOG"], "a") as f:
                    f.write(f"{kind}\t{lines[0]}\n")
        assert time.monotonic() - began < 90, "took too long"
        assert found(self.rt.root, cid, self.cgroup_parent, bundle) == []
        assert found(self.rt.root, cid, self.cgroup_parent, self.bind_dir) == []

    @staticmethod
    def _clean_output(p, what: str) -> None:
        assert "Traceback" not in p.stderr, f"{what}: {p.stderr}"
        assert "internal error" not in p.stderr, f"{what}: {p.stderr}"
        if p.returncode != 0:
            assert p.stderr.strip(), f"{what} failed silently"


@pytest.fixture
def harness(rt, rootfs, tmp_path, cgroup_parent):
    h = Harness(rt, rootfs, tmp_path, cgroup_parent)
    yield h
    print(f"fuzz outcomes so far: {dict(sorted(STATS.items()))}")


def _write(bundle: str, config: dict) -> None:
    with open(os.path.join(bundle, "config.json"), "w") as f:
        json.dump(config, f, ensure_ascii=bool(len(config) % 2))


def test_fuzz_schema_mutations(harness):
    """A working config with one to three fields replaced by schema-derived values
    (valid per the schema, edge values, or just outside: wrong types, out of range)."""

    @fuzz_settings(150)
    @given(st.lists(mutation(), min_size=1, max_size=3))
    def run(mutations):
        cid, bundle = harness.new_bundle()
        config = harness.base_config(cid)
        for path, value in mutations:
            set_path(config, path, copy.deepcopy(value))
        _write(bundle, config)
        harness.check(cid, bundle, "schema")

    run()


def test_fuzz_mounts(harness):
    """Extra mounts of every type, option and destination (sources: ours or none)."""

    @fuzz_settings(100)
    @given(st.data())
    def run(data):
        cid, bundle = harness.new_bundle()
        config = harness.base_config(cid)
        config["mounts"] += data.draw(st.lists(mount(harness.bind_dir), min_size=1,
                                               max_size=3))
        _write(bundle, config)
        harness.check(cid, bundle, "mounts")

    run()


ROOT_KINDS = ["shared", "relative", "missing", "file", "symlink-dir", "symlink-loop",
              "symlink-missing", "unicode", "empty", "dotdot", "long"]


def _make_root(bundle: str, shared: str, kind: str) -> object:
    if kind == "shared":
        return shared
    if kind == "relative":
        os.symlink(shared, os.path.join(bundle, "rootfs"))
        return "rootfs"
    if kind == "missing":
        return "no-such-rootfs"
    if kind == "file":
        with open(os.path.join(bundle, "afile"), "w") as f:
            f.write("x")
        return "afile"
    if kind == "symlink-dir":
        os.symlink(shared, os.path.join(bundle, "link"))
        return os.path.join(bundle, "link")
    if kind == "symlink-loop":
        os.symlink("loop", os.path.join(bundle, "loop"))
        return "loop"
    if kind == "symlink-missing":
        os.symlink("/nonexistent/rootfs", os.path.join(bundle, "dangling"))
        return "dangling"
    if kind == "unicode":
        target = os.path.join(bundle, "rööt fs ✓")
        os.symlink(shared, target)
        return target
    if kind == "empty":
        return ""
    if kind == "dotdot":
        return "../../../../../../../../.."
    return "/" + "l" * 4096


def test_fuzz_bundles(harness):
    """Bundles: rootfs relative, missing, a file, symlinked (to a dir, in a loop,
    dangling), unicode, empty, "..", too long; config.json missing, a directory,
    invalid JSON, the wrong top-level type, deep nesting, huge numbers."""
    bad_files = [None, "dir", b"", b"{", b"[]", b"null", b"\xff\xfe", b"{\"ociVersion\": 1}",
                 b"[" * 5000 + b"]" * 5000, b"{\"process\": {\"args\": [\"/bin/true\"]}}",
                 b"{\"ociVersion\": \"1.0.0\", \"root\": {\"path\": 1e999}}",
                 b"{\"ociVersion\": \"1.0.0\", \"process\": {\"user\": {\"uid\": 1e400}}}",
                 b"{\"ociVersion\":\"1.0.0\"," * 1 + b"\"root\":{\"path\":\"\\u0000\"}}"]

    @fuzz_settings(60)
    @given(st.sampled_from(ROOT_KINDS), st.sampled_from([False, True]),
           st.sampled_from(range(len(bad_files))))
    def run(root_kind, broken, which):
        cid, bundle = harness.new_bundle()
        if broken:
            content = bad_files[which]
            if content == "dir":
                os.mkdir(os.path.join(bundle, "config.json"))
            elif content is not None:
                with open(os.path.join(bundle, "config.json"), "wb") as f:
                    f.write(content)
        else:
            config = harness.base_config(cid)
            config["root"]["path"] = _make_root(bundle, harness.rootfs, root_kind)
            _write(bundle, config)
        harness.check(cid, bundle, "bundle")

    run()
