"""Cross-service tests: the system runs as real processes (started once per run) and every call
goes through the gateway."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from pymongo import AsyncMongoClient

from devstack.stack import INTEGRATION_CLIENT, Stack
from devstack.testing import Infrastructure


class Gateway:
    def __init__(self, stack: Stack, client: httpx.AsyncClient) -> None:
        self.stack = stack
        self.http = client

    async def token(self, person_id: str) -> str:
        resp = await self.http.post("/auth/dev/token", json={"person_id": person_id})
        assert resp.status_code == 200, resp.text
        return str(resp.json()["access_token"])

    async def as_person(self, person_id: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {await self.token(person_id)}"}

    async def as_integration(self) -> dict[str, str]:
        return await self.as_person(INTEGRATION_CLIENT)


@pytest.fixture
async def gateway(system: Stack) -> AsyncIterator[Gateway]:
    async with httpx.AsyncClient(base_url=system.url("gateway"), timeout=30) as client:
        yield Gateway(system, client)


@pytest.fixture
async def mongo(infrastructure: Infrastructure) -> AsyncIterator[AsyncMongoClient[dict[str, Any]]]:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(infrastructure.mongodb_url, tz_aware=True)
    yield client
    await client.close()
