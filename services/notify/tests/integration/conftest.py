"""Fixtures for notify's integration tests. The real SMTP server on loopback (``smtp``) and the
helpers that feed the service events as a producer would live in ``devstack.testing``, so that
the contract tests under ``tests/contract`` use the same ones."""

from __future__ import annotations

import pytest

from devstack.testing import add_people, publish, republish


class Kit:
    """The event helpers of ``devstack.testing``, handed to test modules as the ``kit`` fixture."""

    publish = staticmethod(publish)
    republish = staticmethod(republish)
    add_people = staticmethod(add_people)


@pytest.fixture
def kit() -> Kit:
    return Kit()
