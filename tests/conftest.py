"""Cross-service tests: the system runs as real processes (started once per run) and every call
goes through the gateway."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from pymongo import AsyncMongoClient

from devstack.stack import Stack
from devstack.testing import Gateway, Infrastructure


@pytest.fixture
async def gateway(system: Stack) -> AsyncIterator[Gateway]:
    async with httpx.AsyncClient(base_url=system.url("gateway"), timeout=30) as client:
        yield Gateway(system, client)


@pytest.fixture
async def mongo(infrastructure: Infrastructure) -> AsyncIterator[AsyncMongoClient[dict[str, Any]]]:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(infrastructure.mongodb_url, tz_aware=True)
    yield client
    await client.close()
