"""``Stale`` (shared.versioned) as problem+json, mapped once for every service by create_service_app."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from fastapi import APIRouter, FastAPI
from shared.app import create_service_app
from shared.errors import Problem, problem_response
from shared.problems import COMMON_PROBLEMS, stale_problem, with_common_problems
from shared.settings import ServiceSettings
from shared.versioned import Stale, check_version


def _body(problem: Problem) -> dict[str, Any]:
    """The problem as a client reads it: its status and its JSON body."""
    response = problem_response(None, problem)
    return {"status": response.status_code, **json.loads(bytes(response.body))}


def test_a_record_at_another_version_is_a_412_with_the_current_version() -> None:
    body = _body(stale_problem(Stale("resolution form", 5, 3, ident="RF-1")))

    assert body == {
        "status": 412,
        "type": "https://qa-platform.example/problems/stale-version",
        "title": "Changed since you read it",
        "detail": "The resolution form is now at version 5, not 3: read it again and redo your change.",
        "current_version": 5,
    }


def test_a_service_may_call_its_versions_otherwise() -> None:
    body = _body(stale_problem(Stale("exemplar", 2, 1), counter="revision"))

    assert body["detail"] == "The exemplar is now at revision 2, not 1: read it again and redo your change."
    assert body["current_version"] == 2


def test_a_version_named_of_a_record_that_does_not_exist_is_a_412_without_a_current_version() -> None:
    body = _body(stale_problem(Stale("team", None, 3, ident="T1")))

    assert body["status"] == 412
    assert body["type"].endswith("/stale-version")
    assert body["detail"] == "There is no team 'T1' at version 3."
    assert "current_version" not in body


def test_a_record_that_does_not_exist_with_no_version_named_is_not_found() -> None:
    body = _body(stale_problem(Stale("webhook endpoint", None, None, ident="wh-1")))

    assert body["status"] == 404
    assert body["title"] == "Not found"
    assert body["detail"] == "There is no webhook endpoint 'wh-1'."


def test_an_existing_record_changed_without_a_version_needs_if_match() -> None:
    body = _body(stale_problem(Stale("theme", 4, None, ident="neglect")))

    assert body["status"] == 428
    assert body["type"].endswith("/if-match-required")
    assert body["detail"] == (
        "The theme 'neglect' exists, at version 4: send the ETag of the version you read as If-Match, so a change made since is never overwritten."
    )
    assert "revision 4" in _body(stale_problem(Stale("exemplar type", 4, None), counter="revision"))["detail"]


def test_check_version_refuses_only_another_version() -> None:
    check_version("task", 3, 3)
    check_version("task", 3, None)  # no version named: any will do
    with pytest.raises(Stale) as caught:
        check_version("task", 4, 3, ident="t-1")
    assert (caught.value.what, caught.value.current, caught.value.expected, caught.value.ident) == ("task", 4, 3, "t-1")
    assert str(caught.value) == "the task 't-1' is now at version 4, not 3"


class Refused(Exception):
    pass


def _client(app: FastAPI) -> httpx.AsyncClient:
    # No lifespan: nothing here needs MongoDB or RabbitMQ.
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app, raise_app_exceptions=False), base_url="http://service")


async def test_every_service_answers_stale_with_the_common_mapping_and_its_own_entries_on_top() -> None:
    settings = ServiceSettings(service_name="mapping", identity_signing_key="unused", access_log=False)
    router = APIRouter()

    @router.post("/stale")
    async def stale_endpoint() -> None:
        raise Stale("task", 7, 6)

    @router.post("/refused")
    async def refused_endpoint() -> None:
        raise Refused

    plain = create_service_app(settings, title="t", description="d", routers=[router])
    own = create_service_app(
        settings, title="t", description="d", routers=[router],
        domain_errors={Refused: lambda e: Problem(409, "refused", "Refused"), Stale: lambda e: stale_problem(e, counter="revision")},
    )

    async with _client(plain) as http:
        answered = await http.post("/stale")
        assert answered.status_code == 412
        assert answered.headers["content-type"] == "application/problem+json"
        assert answered.json()["detail"] == "The task is now at version 7, not 6: read it again and redo your change."
        assert (await http.post("/refused")).status_code == 500
    async with _client(own) as http:
        assert (await http.post("/stale")).json()["detail"] == "The task is now at revision 7, not 6: read it again and redo your change."
        assert (await http.post("/refused")).status_code == 409


def test_the_service_entry_wins_over_the_common_one() -> None:
    def mine(exc: Exception) -> Problem:
        return Problem(418, "mine", "Mine")

    assert with_common_problems(None) == COMMON_PROBLEMS
    assert with_common_problems({Stale: mine})[Stale] is mine
