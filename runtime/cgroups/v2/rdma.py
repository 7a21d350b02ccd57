"""v2 rdma controller: the same rdma.max / rdma.current format as v1."""

from __future__ import annotations

from runtime.cgroups.v1.rdma import requested, set, stats

__all__ = ["requested", "set", "stats"]
