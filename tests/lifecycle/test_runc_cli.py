"""runc's CLI where pyrunc was tried beside it: kill's signals, -h on every command.

Each test runs against pyrunc and runc (any_rt): the expectations are runc 1.1's.
"""

from __future__ import annotations

import pytest

RUNC_COMMANDS = ("checkpoint", "create", "delete", "events", "exec", "kill", "list", "pause",
                 "ps", "restore", "resume", "run", "spec", "start", "state", "update",
                 "features", "help")


@pytest.mark.parametrize("command", RUNC_COMMANDS)
def test_every_command_answers_h(any_rt, command):
    p = any_rt(command, "-h")
    assert p.returncode == 0, p.stderr
    assert "USAGE:" in p.stdout
    assert p.stderr == ""


def test_kill_all_signal_0_succeeds_on_a_stopped_container(any_rt, bundle):
    any_rt("run", "-d", "-b", bundle.path, bundle.id, check=True)
    any_rt.wait_status(bundle.id, "stopped")
    any_rt("kill", "-a", bundle.id, "0", check=True)
    p = any_rt("kill", bundle.id, "0")     # without --all: the init must be running
    assert p.returncode == 1
    assert "container not running" in p.stderr


def test_kill_signal_0_checks_a_running_container(any_rt, bundle):
    bundle.args("/bin/sleep", "100")
    any_rt("run", "-d", "-b", bundle.path, bundle.id, check=True)
    any_rt("kill", bundle.id, "0", check=True)
    any_rt("kill", "-a", bundle.id, "0", check=True)
    assert any_rt.status(bundle.id) == "running"


def test_kill_numbers_go_to_the_kernel_names_are_checked(any_rt, bundle):
    bundle.args("/bin/sleep", "100")
    any_rt("run", "-d", "-b", bundle.path, bundle.id, check=True)
    for number in ("65", "-1"):
        p = any_rt("kill", bundle.id, number)
        assert p.returncode == 1
        assert 'msg="unable to signal init: invalid argument"' in p.stderr
    p = any_rt("kill", bundle.id, "SIGFOO")
    assert p.returncode == 1
    assert r'msg="unknown signal \"SIGFOO\""' in p.stderr
    p = any_rt("kill", "-a", bundle.id, "65")     # --all: a warning per process, exit 0
    assert p.returncode == 0
    assert 'level=warning msg="invalid argument"' in p.stderr
    assert any_rt.status(bundle.id) == "running"
