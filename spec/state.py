"""Validate a container state dict (runtime.md "State") without jsonschema."""

from spec._state_validator import check_state


class StateError(Exception):
    """A state document that breaks the spec; str() is one line."""


def validate_state(state: dict) -> None:
    """Raise StateError naming the first problem, e.g. `pid: -1 is less than 0`."""
    problem = check_state(state)
    if problem is not None:
        raise StateError(" ".join(problem.splitlines()))
