"""How long ``shared.mongo`` waits for a database that cannot be reached, and who waits how long.

The database here is a real address with nothing listening (a stopped server), not a mock. A
request (a context that does not descend from the one that called ``connect()``) gives up after
the request timeout; background work (the connecting context and the tasks it starts) keeps its
longer wait, and its unit of work keeps retrying as ``with_transaction`` does. Guards the PyMongo
internals ``shared.mongo`` relies on; tests/e2e/test_outages.py shows the whole behaviour with a
real database stopped and started again.
"""

from __future__ import annotations

import asyncio
import contextvars
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from pymongo import AsyncMongoClient
from pymongo.errors import ConnectionFailure, ServerSelectionTimeoutError
from shared.clock import SystemClock
from shared.mongo import DatabaseUnavailable, Transaction, UnitOfWork
from shared.problems import COMMON_PROBLEMS, database_unavailable

from devstack.infra import free_port
from shared import mongo

REQUEST_MS = 300
PATIENT_MS = 1500


@pytest.fixture
async def unreachable() -> AsyncIterator[AsyncMongoClient[Any]]:
    client = mongo.connect(f"mongodb://127.0.0.1:{free_port()}/", request_timeout_ms=REQUEST_MS, patient_timeout_ms=PATIENT_MS)
    yield client
    await client.close()


async def _as_a_request(work: Callable[[], Awaitable[Any]]) -> Any:
    """Run ``work`` as the ASGI server runs a request: in a task with a context of its own."""
    return await asyncio.create_task(work(), context=contextvars.Context())


async def _seconds_to_fail(work: Callable[[], Awaitable[Any]], expected: type[Exception]) -> float:
    started = time.monotonic()
    with pytest.raises(expected):
        await work()
    return time.monotonic() - started


async def test_a_request_waits_only_the_request_timeout_and_background_work_its_own(unreachable: AsyncMongoClient[Any]) -> None:
    async def read() -> Any:
        return await unreachable["qa_outage"]["things"].find_one({})

    request = await _seconds_to_fail(lambda: _as_a_request(read), ServerSelectionTimeoutError)
    background = await _seconds_to_fail(read, ServerSelectionTimeoutError)
    started_by_background = await _seconds_to_fail(lambda: asyncio.create_task(read()), ServerSelectionTimeoutError)

    assert request < 1.0
    assert background >= PATIENT_MS / 1000 - 0.05
    assert started_by_background >= PATIENT_MS / 1000 - 0.05


async def test_a_requests_unit_of_work_fails_at_once_and_a_background_one_keeps_trying(unreachable: AsyncMongoClient[Any]) -> None:
    uow = UnitOfWork(unreachable, unreachable["qa_outage"], source="/qa/test", clock=SystemClock())

    async def work(tx: Transaction) -> None:
        await uow.db["things"].insert_one({"x": 1}, session=tx.session)

    async def write() -> None:
        await uow.run(work)

    # PyMongo's with_transaction labels a failed server selection transient and would re-run the
    # transaction for two minutes; a request's unit of work stops at the first.
    request = await _seconds_to_fail(lambda: _as_a_request(write), DatabaseUnavailable)
    assert request < 1.0
    # Background work (a consumer's handler) keeps retrying: still at it after two patient waits.
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(write(), timeout=2 * PATIENT_MS / 1000 + 0.5)


def test_every_unreachable_database_error_is_a_503_with_retry_after() -> None:
    assert COMMON_PROBLEMS[ConnectionFailure] is database_unavailable  # ServerSelectionTimeoutError, AutoReconnect, NetworkTimeout
    problem = database_unavailable(ServerSelectionTimeoutError("no server"))
    assert (problem.status, problem.slug, problem.headers["Retry-After"]) == (503, "database-unavailable", "5")
    assert "nothing was changed" in (problem.detail or "")
    unknown = database_unavailable(DatabaseUnavailable("lost while committing", outcome_unknown=True))
    assert unknown.status == 503 and unknown.extensions["outcome"] == "unknown"
    assert "not known" in (unknown.detail or "")
