"""The check registry: every check is a small function registered with its requirement.

A check proves one requirement of the runtime-spec. It names the section it proves (spec file plus
heading anchor, e.g. ``config.md#configHostname``), the requirement level, and a sabotage: a way
to break a working runtime under which the check must fail (a check that cannot fail proves
nothing). The function passes by returning (optionally a short note), fails by raising
CheckFailed (``fail()``), and skips by raising CheckSkipped (``skip()``).
"""

from __future__ import annotations

import enum
import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, NoReturn

if TYPE_CHECKING:
    from conformance.context import Context
    from conformance.sabotage import Sabotage

SPEC_FILES = ("runtime.md", "runtime-linux.md", "config.md", "config-linux.md")


class Level(enum.Enum):
    MUST = "MUST"
    SHOULD = "SHOULD"
    MAY = "MAY"


class CheckFailed(Exception):
    """The runtime did not meet the requirement; the message says how."""


class CheckSkipped(Exception):
    """The check could not run here; the message says why."""


def fail(reason: str) -> NoReturn:
    raise CheckFailed(reason)


def skip(reason: str) -> NoReturn:
    raise CheckSkipped(reason)


def expect(condition: object, reason: str) -> None:
    if not condition:
        raise CheckFailed(reason)


def expect_equal(actual: object, expected: object, what: str) -> None:
    if actual != expected:
        raise CheckFailed(f"{what}: expected {expected!r}, got {actual!r}")


CheckFunc = Callable[["Context"], "str | None"]


@dataclass(frozen=True)
class Check:
    id: str
    section: str
    level: Level
    description: str
    func: CheckFunc
    sabotage: Sabotage
    area: str

    @property
    def spec_file(self) -> str:
        return self.section.split("#", 1)[0]

    @property
    def anchor(self) -> str:
        return self.section.split("#", 1)[1] if "#" in self.section else ""


_REGISTRY: dict[str, Check] = {}


def check(
    id: str,
    section: str,
    level: Level,
    description: str,
    sabotage: Sabotage,
) -> Callable[[CheckFunc], CheckFunc]:
    """Register the decorated function as the check ``id``."""
    spec_file = section.split("#", 1)[0]
    if spec_file not in SPEC_FILES or "#" not in section:
        raise ValueError(f"check {id}: section {section!r} is not <spec file>#<anchor>")

    def register(func: CheckFunc) -> CheckFunc:
        if id in _REGISTRY:
            raise ValueError(f"check id {id!r} registered twice")
        area = func.__module__.rsplit(".", 1)[-1]
        _REGISTRY[id] = Check(id, section, level, description, func, sabotage, area)
        return func

    return register


def all_checks() -> list[Check]:
    """Every check of the suite, in module then definition order."""
    _load_check_modules()
    return list(_REGISTRY.values())


def get_check(check_id: str) -> Check:
    _load_check_modules()
    try:
        return _REGISTRY[check_id]
    except KeyError:
        raise KeyError(f"no check with id {check_id!r}") from None


def select(checks: list[Check], substrings: list[str] | None) -> list[Check]:
    """Checks whose id, section or description contains any of ``substrings``."""
    if not substrings:
        return checks
    wanted = [s.lower() for s in substrings]
    return [
        c for c in checks if any(s in f"{c.id} {c.section} {c.description}".lower() for s in wanted)
    ]


_loaded = False


def _load_check_modules() -> None:
    global _loaded
    if _loaded:
        return
    import conformance.checks as package

    names = [m.name for m in pkgutil.iter_modules(package.__path__) if not m.name.startswith("_")]
    order = {name: i for i, name in enumerate(package.AREAS)}
    for name in sorted(names, key=lambda n: (order.get(n, len(order)), n)):
        importlib.import_module(f"{package.__name__}.{name}")
    _loaded = True
