"""pyrunc's model of the OCI runtime-spec (v1.3.0) documents: config.json, state, features.

Layout:
    schema/*.schema.json   our own JSON Schemas (draft 2020-12) for config.json, the container
                           state and the features structure; defs.schema.json holds shared parts
    codegen.py             compiles those schemas into the plain-Python _*_validator.py modules
                           (`python3 -m spec.codegen`; `--check` tells whether they are stale)
    _config_validator.py   generated: check_config(), check_process(); imports nothing, but
                           for the sections of other platforms (windows, solaris, vm, zos,
                           freebsd) the generated _config_platforms_validator.py, on demand
    _state_validator.py    generated: check_state()
    _features_validator.py generated: check_features()
    config.py              ConfigError, load_config(bundle), load_process(path), validate_config(),
                           validate_process(): the runtime's entry points, cheap to import
    state.py               validate_state() for state dicts
    jsonio.py              JSON loads/dumps on the _json C module, keeping `json` and `re`
                           (and so enum) off every command's path
    defaults.py            default_config(rootless): what `runc spec` writes, at ociVersion 1.3.0
    model.py               TypedDicts describing the documents, for type hints only: import it
                           under `if TYPE_CHECKING:`, never at run time

The runtime works on plain dicts parsed from JSON. The schemas check structure only; semantic
rules (duplicate namespaces, paths that must exist, ...) are the runtime's job. jsonschema is
used by the tests alone, never on the runtime's path.
"""

SPEC_VERSION = "1.3.0"
