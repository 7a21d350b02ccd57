"""cgroup v2 (unified hierarchy) controllers, one module per controller.

Same shape as the v1 modules: ``requested(res)``, ``set(path, res)`` and
``stats(path, st)``, with runc's conversions from the OCI (v1-flavoured) values.
"""
