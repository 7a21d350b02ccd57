"""spec.state: the generated state validator behind validate_state()."""

import pytest

from spec.state import StateError, validate_state

STATE = {"ociVersion": "1.3.0", "id": "c1", "status": "running", "pid": 42, "bundle": "/b"}


def test_valid_states_pass():
    validate_state(STATE)
    validate_state(dict(STATE, status="stopped", pid=0, annotations={"k": "v"}))
    stopped = dict(STATE, status="stopped")
    del stopped["pid"]
    validate_state(stopped)


@pytest.mark.parametrize(
    "change,expected",
    [
        ({"pid": -1}, "pid: -1 is less than 0"),
        ({"status": "frozen"}, 'status: "frozen" is not one of creating, created, running, '
         "stopped, paused"),
        ({"bundle": "b"}, 'bundle: "b" must be an absolute path'),
        ({"id": ""}, "id: expected a non-empty string"),
        ({"annotations": {"k": 1}}, "annotations.k: expected a string, got an integer"),
    ],
)
def test_invalid_states_name_the_problem(change, expected):
    with pytest.raises(StateError) as info:
        validate_state(dict(STATE, **change))
    assert str(info.value) == expected


def test_running_state_needs_a_pid():
    running = dict(STATE)
    del running["pid"]
    with pytest.raises(StateError, match='missing required property "pid"'):
        validate_state(running)
