"""Fixtures for the shared library's integration tests."""

from devstack.wiring import wiring  # noqa: F401  (fixture)
