"""--debug: runc's level=debug lines for create, run and exec, in text and JSON, on
stderr or in --log; pyrunc's carry timings.  Against pyrunc and runc (any_rt)."""

from __future__ import annotations

import json
import os
import re
import subprocess

import pytest

from tests.support.runtime import is_pyrunc

TEXT = re.compile(r'^time="\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ" level=(\w+) msg="(.*?)"(?: |$)')


def debug_lines(text: str, fmt: str) -> list[str]:
    """The messages of the level=debug lines; every line must have runc's shape."""
    out = []
    for line in text.splitlines():
        if fmt == "json":
            doc = json.loads(line)
            assert set(doc) >= {"level", "msg", "time"}, line
            level, msg = doc["level"], doc["msg"]
        else:
            m = TEXT.match(line)
            assert m, line
            level, msg = m.groups()
        if level == "debug":
            out.append(msg)
    return out


def timed(msgs: list[str]) -> list[str]:
    return [m for m in msgs if re.search(r"\(\+\d+\.\d{3} ms, \d+\.\d{3} ms in\)$", m)]


def run_debug(rt, fmt: str, to_log: bool, tmp_path,
              *args: str) -> tuple[subprocess.CompletedProcess, str]:
    log = str(tmp_path / f"log-{os.urandom(3).hex()}")
    flags = ["--debug", "--log-format", fmt] + (["--log", log] if to_log else [])
    p = rt(*flags, *args)
    text = p.stderr
    if to_log:
        with open(log) as f:
            text = f.read()
    return p, text


@pytest.mark.parametrize("fmt", ["text", "json"])
@pytest.mark.parametrize("to_log", [False, True], ids=["stderr", "log"])
def test_create_exec_and_run_print_debug_lines(any_rt, bundle, tmp_path, fmt, to_log):
    bundle.args("/bin/sleep", "100")
    p, text = run_debug(any_rt, fmt, to_log, tmp_path, "create", "-b", bundle.path, bundle.id)
    assert p.returncode == 0, p.stderr
    created = debug_lines(text, fmt)
    any_rt("start", bundle.id, check=True)
    p, text = run_debug(any_rt, fmt, to_log, tmp_path, "exec", bundle.id, "/bin/true")
    assert p.returncode == 0, p.stderr
    executed = debug_lines(text, fmt)
    any_rt("delete", "--force", bundle.id, check=True)
    bundle.args("/bin/true")
    p, text = run_debug(any_rt, fmt, to_log, tmp_path, "run", "-b", bundle.path, bundle.id)
    assert p.returncode == 0, p.stderr
    ran = debug_lines(text, fmt)
    for msgs in (created, executed, ran):
        assert len(msgs) >= 3, msgs
    if to_log:
        assert p.stderr == ""
    if os.path.basename(any_rt.path).startswith("pyrunc"):
        # Where the milliseconds go: each step of the runtime and of the init, timed.
        assert len(timed(created)) >= 6 and len(timed(executed)) >= 4 and len(timed(ran)) >= 8
        assert any(m.startswith("init: ") and "mount proc on /proc" in m for m in created)
        assert any("exec'd after:" in m and "; exec " in m for m in executed)


def test_no_debug_lines_without_debug(any_rt, bundle):
    bundle.args("/bin/true")
    p = any_rt("run", "-b", bundle.path, bundle.id)
    assert p.returncode == 0
    assert "level=debug" not in p.stderr


def test_the_debug_module_is_not_imported_without_debug(rt, bundle):
    if not is_pyrunc():
        pytest.skip("pyrunc's imports")
    bundle.args("/bin/true")
    env = dict(os.environ, PYTHONPROFILEIMPORTTIME="1")
    p = rt("run", "-b", bundle.path, bundle.id, env=env)
    assert p.returncode == 0, p.stderr
    assert "| runtime.lifecycle.create" in p.stderr    # the import log is there
    assert "runtime.debug" not in p.stderr
    p = rt("--debug", "state", "nothing-here", env=env)
    assert "| runtime.debug" in p.stderr
