"""What a --root may hold besides healthy containers: stray files, empty dirs,
symlinks, damaged state documents. No command crashes or follows a link out."""

from __future__ import annotations

import json
import os
import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.robustness.leftovers import assert_no_bug_output, assert_one_clear_line

DAMAGED = {
    "array": "[1, 2]",
    "null": "null",
    "string-pid": '{"id": "x", "pid": "12"}',
    "bool-pid": '{"id": "x", "pid": true}',
    "creator-int": '{"id": "x", "pid": 0, "creating": true, "creator": 5}',
    "creator-str-pid": '{"id": "x", "pid": 0, "creating": true, "creator": {"pid": "1"}}',
    "cgroup-paths-int": '{"id": "x", "pid": 0, "cgroup": {"version": 1, "mode": "v1", '
                        '"paths": 5}}',
    "annotations-list": '{"id": "x", "pid": 0, "annotations": []}',
    "truncated": '{"id": "x", "pid": ',
    "not-utf8": b"\xff\xfe{}".decode("latin-1"),
}


@pytest.mark.parametrize("kind", sorted(DAMAGED))
def test_damaged_state_document(rt, kind):
    cid = f"dmg-{kind}"
    os.makedirs(os.path.join(rt.root, cid))
    with open(os.path.join(rt.root, cid, "state.json"), "w", encoding="latin-1") as f:
        f.write(DAMAGED[kind])
    for args in (("state", cid), ("kill", cid, "KILL"), ("kill", "--all", cid, "KILL"),
                 ("pause", cid), ("start", cid), ("delete", cid)):
        p = rt(*args)
        assert_no_bug_output(p)
        if p.returncode != 0:
            assert_one_clear_line(p)
    p = rt("list", "--format", "json")
    assert p.returncode == 0, p.stderr
    listed = json.loads(p.stdout) or []  # null is runc's empty list
    assert all(doc["status"] == "stopped" for doc in listed), listed
    assert_no_bug_output(rt("delete", "--force", cid))


def test_delete_force_of_a_symlinked_entry_removes_the_link_only(rt, tmp_path):
    """Regression: delete --force of an id whose entry in --root is a symlink to a
    directory emptied that directory (remove_dir listed it through the link)."""
    victim = tmp_path / "victim"
    (victim / "sub").mkdir(parents=True)
    (victim / "keep").write_text("precious\n")
    (victim / "sub" / "deeper").write_text("also\n")
    os.makedirs(rt.root)
    os.symlink(victim, os.path.join(rt.root, "linked"))
    p = rt("delete", "--force", "linked")
    assert_no_bug_output(p)
    assert (victim / "keep").read_text() == "precious\n"
    assert (victim / "sub" / "deeper").read_text() == "also\n"
    assert not os.path.lexists(os.path.join(rt.root, "linked"))


def test_delete_of_a_state_dir_holding_a_symlink_does_not_follow_it(rt, bundle, tmp_path):
    """A link planted inside a container's state dir goes with it; its target stays."""
    victim = tmp_path / "victim2"
    victim.mkdir()
    (victim / "keep").write_text("precious\n")
    bundle.args("/bin/true")
    rt("create", "-b", bundle.path, bundle.id, check=True)
    os.symlink(victim, os.path.join(rt.root, bundle.id, "planted"))
    rt("delete", "--force", bundle.id, check=True)
    assert (victim / "keep").read_text() == "precious\n"
    assert not os.path.lexists(os.path.join(rt.root, bundle.id))


def test_stray_entries_in_root(rt, bundle):
    """A file, an empty dir and a badly named dir beside a real container: list shows
    the container only; state of each stray entry is one line."""
    os.makedirs(rt.root)
    open(os.path.join(rt.root, "afile"), "w").close()
    os.mkdir(os.path.join(rt.root, "emptydir"))
    os.mkdir(os.path.join(rt.root, "bad id"))
    bundle.args("/bin/sleep", "100")
    rt("run", "-d", "-b", bundle.path, bundle.id, check=True)
    assert rt.ids() == [bundle.id] or set(rt.ids()) == {bundle.id}
    for cid in ("afile", "emptydir", "bad id", "missing"):
        assert_one_clear_line(rt("state", cid))
    rt("delete", "--force", bundle.id, check=True)


# Generated state documents. Never a well-formed pid, creator or cgroup record: a
# plausible one names host processes and cgroups that delete --force would kill.
_JSON = st.recursive(st.none() | st.booleans() | st.floats(allow_nan=False) | st.text(max_size=8),
                     lambda inner: st.lists(inner, max_size=3)
                     | st.dictionaries(st.text(max_size=6), inner, max_size=3), max_leaves=8)
_NOT_INT = st.none() | st.booleans() | st.floats(allow_nan=False) | st.text(max_size=8) \
    | st.lists(st.integers(), max_size=2)
_STATE_DOCS = st.one_of(
    _JSON.filter(lambda v: not isinstance(v, dict)),
    st.fixed_dictionaries({}, optional={
        "id": _JSON, "pid": _NOT_INT, "pid_start": _NOT_INT, "creating": _JSON,
        "creator": _NOT_INT, "cgroup": _NOT_INT, "annotations": _JSON, "bundle": _JSON,
        "rootfs": _JSON, "created": _JSON, "owner": _JSON}),
)


def test_fuzz_state_documents(rt):
    os.makedirs(rt.root)
    seen = {"refused": 0, "answered": 0}

    @settings(max_examples=int(os.environ.get("PYRUNC_FUZZ_EXAMPLES", "0")) or 30,
              deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(_STATE_DOCS)
    def run(doc):
        cid = f"gen-{uuid.uuid4().hex[:8]}"
        os.mkdir(os.path.join(rt.root, cid))
        with open(os.path.join(rt.root, cid, "state.json"), "w") as f:
            json.dump(doc, f)
        for args in (("state", cid), ("kill", cid, "KILL"), ("delete", "--force", cid)):
            p = rt(*args)
            assert_no_bug_output(p)
            if p.returncode != 0:
                assert_one_clear_line(p)
                seen["refused"] += 1
            else:
                seen["answered"] += 1
        remove = os.path.join(rt.root, cid)
        if os.path.isdir(remove):
            os.remove(os.path.join(remove, "state.json"))
            os.rmdir(remove)

    run()
    print(f"state documents: {seen}")
