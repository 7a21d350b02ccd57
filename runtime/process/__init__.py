"""Turn a validated config into the ordered plan the container process runs.

init_plan.py holds the order (mirroring runc's standard_init and rootfs set-up);
the other modules translate one config area each into plan operations.
"""
