"""cgroup v1 controllers: one module per controller, imported only when needed.

Each module offers some of ``requested(res)``, ``set(path, res)`` and
``stats(path, st)``; ``res`` is validated OCI ``linux.resources`` and ``st`` the
skeleton from :mod:`runtime.cgroups.stats`.
"""
