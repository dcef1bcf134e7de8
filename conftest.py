"""Fixtures shared by every test suite: real infrastructure, namespaces, the running system."""

pytest_plugins = ["devstack.testing"]
