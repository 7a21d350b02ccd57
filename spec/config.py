"""Read and validate a bundle's config.json (and exec's process.json) without jsonschema.

Parsing goes through spec.jsonio (the _json C module alone), so neither jsonschema nor the
json package is on the `create` path.
"""

import os

from spec import jsonio

# The generated validators are imported when first needed (~1 ms): `create` reads
# the config first and validates it a little later (see runtime/lifecycle/create.py).


class ConfigError(Exception):
    """A config.json that cannot be used; str() is one line meant for the user."""

    def __init__(self, message: str) -> None:
        super().__init__(" ".join(message.splitlines()))


def has_hooks(cfg: dict, *kinds: str) -> bool:
    """Whether cfg has a hook of any of these kinds (runtime.lifecycle.hooks is only
    imported then)."""
    hooks = cfg.get("hooks") or {}
    return any(hooks.get(k) for k in kinds)


def validate_config(cfg: dict) -> None:
    """Raise ConfigError naming the first schema violation in cfg, e.g. at process.args."""
    from spec._config_validator import check_config

    problem = check_config(cfg)
    if problem is not None:
        raise ConfigError(problem)


def validate_process(proc: dict) -> None:
    """Raise ConfigError if proc is not a valid process object (as given to exec)."""
    from spec._config_validator import check_process

    problem = check_process(proc)
    if problem is not None:
        raise ConfigError(problem)


def load_config(bundle_dir: str) -> dict:
    """Parse and validate <bundle_dir>/config.json; ConfigError says what is wrong."""
    cfg = read_config(bundle_dir)
    check_loaded(bundle_dir, cfg)
    return cfg


def read_config(bundle_dir: str) -> object:
    """Parse <bundle_dir>/config.json, not yet validated (check_loaded does that)."""
    path = os.path.join(bundle_dir, "config.json")
    try:
        return _read_json(path)
    except FileNotFoundError:
        if not os.path.isdir(bundle_dir):
            raise ConfigError(f"bundle {bundle_dir}: no such directory") from None
        raise ConfigError(f"JSON specification file {path} not found") from None
    except NotADirectoryError:
        raise ConfigError(f"bundle {bundle_dir}: not a directory") from None


def check_loaded(bundle_dir: str, cfg: object) -> None:
    """Validate what read_config returned; ConfigError names the first problem."""
    from spec._config_validator import check_config

    _validated(os.path.join(bundle_dir, "config.json"), cfg, check_config)


def load_process(path: str) -> dict:
    """Parse and validate a process.json file as given to `exec --process`."""
    try:
        proc = _read_json(path)
    except FileNotFoundError:
        raise ConfigError(f"open {path}: no such file or directory") from None
    except NotADirectoryError:
        raise ConfigError(f"open {path}: not a directory") from None
    from spec._config_validator import check_process

    _validated(path, proc, check_process)
    return proc


def _validated(path: str, doc: object, check) -> None:
    problem = check(doc)
    if problem is not None:
        raise ConfigError(f"{path}: {problem}")


def _read_json(path: str) -> object:
    """Parse the JSON file at path; ConfigError on anything unreadable or malformed."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except (FileNotFoundError, NotADirectoryError):
        raise
    except IsADirectoryError:
        raise ConfigError(f"read {path}: is a directory") from None
    except OSError as e:
        reason = (e.strerror or str(e)).lower()
        raise ConfigError(f"open {path}: {reason}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ConfigError(f"{path}: not valid UTF-8 at byte {e.start}") from None
    try:
        doc = jsonio.loads(text)
    except ValueError as e:  # the message carries line and column
        raise ConfigError(f"{path}: invalid JSON: {e}") from None
    except RecursionError:
        raise ConfigError(f"{path}: invalid JSON: nested too deeply") from None
    if "\\u0000" in text:  # the only way a NUL gets into a JSON string
        _refuse_nul(path, doc)
    return doc


def _refuse_nul(path: str, doc: object) -> None:
    """A NUL cannot reach a syscall (C would cut the string there): refuse the first
    string that has one, in runc's words for a mount.  process.env is left to the
    environment check, which names the variable as runc does."""
    where = _nul_at(doc, "")
    if where is None:
        return
    if where.startswith("mounts["):
        mount = doc["mounts"][int(where[7:where.index("]")])]  # type: ignore[index]
        dest = mount.get("destination") if isinstance(mount, dict) else mount
        raise ConfigError(f"invalid mount {dest!r}: mount field contains null byte "
                          f"({where} has a NUL byte)")
    raise ConfigError(f"{path}: {where} contains a NUL byte")


_NUL_CHECKED_LATER = {"process.env", "env"}


def _nul_at(node: object, where: str) -> str | None:
    """The JSON path of the first string (key or value) under node with a NUL in it."""
    if isinstance(node, str):
        return where if "\0" in node else None
    if isinstance(node, dict):
        for key, value in node.items():
            at = f"{where}.{key}" if where else key
            if at in _NUL_CHECKED_LATER:
                continue
            if "\0" in key:
                return at
            found = _nul_at(value, at)
            if found is not None:
                return found
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found = _nul_at(value, f"{where}[{i}]")
            if found is not None:
                return found
    return None
