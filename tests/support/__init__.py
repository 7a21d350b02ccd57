"""Shared test support: the runtime under test, busybox bundles, leak checks.

The runtime binary is $PYRUNC_TEST_RUNTIME (default: the venv's pyrunc), so
the same tests run against /usr/sbin/runc to prove they encode runc's behaviour.
"""
