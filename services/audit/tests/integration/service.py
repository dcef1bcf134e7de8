"""The audit service as most integration tests run it: in-process on the fixed clock, its directory
seeded with the standard people, teams and cases (``conftest.seed_directory``); and the check that
an answer is the problem+json of a status."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from audit.main import create_app

from devstack.testing import ServiceClient, running_service

from .conftest import clock, seed_directory


@asynccontextmanager
async def seeded_service() -> AsyncIterator[ServiceClient]:
    """``async with seeded_service() as svc``: needs the ``service_env`` fixture."""
    async with running_service(lambda: create_app(clock=clock())) as svc:
        await seed_directory(svc.db)
        yield svc


def is_problem(response: Any, status: int) -> bool:
    return response.status_code == status and response.headers["content-type"].startswith("application/problem+json")
