"""Links a client can follow through the gateway (``public_path``), the one ``errors[]`` shape
(``field``, ``message``, ``code``) and a ``ProblemDetail`` schema without ``default: null``."""

from __future__ import annotations

import json
from typing import Annotated, Any

import httpx
import pytest
from fastapi import APIRouter, FastAPI, Query, Request
from pydantic import BaseModel, Field
from shared.app import create_service_app
from shared.errors import FieldError, Problem, ProblemDetail, field_errors, problem_response
from shared.http import public_path
from shared.settings import ServiceSettings
from starlette.requests import Request as StarletteRequest


def _request(path: str = "/v1/exemplars/x", prefix: str | None = None) -> StarletteRequest:
    headers = [] if prefix is None else [(b"x-forwarded-prefix", prefix.encode("latin-1"))]
    return StarletteRequest({"type": "http", "method": "GET", "path": path, "raw_path": path.encode(), "query_string": b"", "headers": headers})


# --- public_path ----------------------------------------------------------------------------------


def test_behind_the_gateway_a_service_path_becomes_the_gateway_path() -> None:
    request = _request(prefix="/api/v1/signoff")
    assert public_path(request, "/v1/exemplars/x") == "/api/v1/signoff/exemplars/x"
    assert public_path(request, "/v1/cycles/2026-03?tool_id=kent") == "/api/v1/signoff/cycles/2026-03?tool_id=kent"
    assert public_path(_request(prefix="/api/v1/multi-agency"), "/v1/audits/A1/pdfs/P1") == "/api/v1/multi-agency/audits/A1/pdfs/P1"


def test_called_directly_the_service_path_is_unchanged() -> None:
    assert public_path(_request(), "/v1/exemplars/x") == "/v1/exemplars/x"
    assert public_path(None, "/v1/exemplars/x") == "/v1/exemplars/x"


def test_a_path_outside_the_services_v1_is_unchanged() -> None:
    request = _request(prefix="/api/v1/audit")
    assert public_path(request, "/api/v1/directory/imports/J1") == "/api/v1/directory/imports/J1"
    assert public_path(request, "/v10/things") == "/v10/things"
    assert public_path(request, "/healthz") == "/healthz"


@pytest.mark.parametrize(
    "prefix",
    [
        "https://evil.example/api/v1/signoff",
        "/api/v1/Signoff",
        "/api/v1/signoff/",
        "/api/v1/signoff/exemplars",
        "/api/v1/../admin",
        "/api/v2/signoff",
        "/api/v1/",
        "/api/v1/1signoff",
        "//evil.example",
        "",
    ],
)
def test_a_header_that_is_not_a_gateway_prefix_is_ignored(prefix: str) -> None:
    assert public_path(_request(prefix=prefix), "/v1/exemplars/x") == "/v1/exemplars/x"


def test_a_problems_instance_is_the_path_the_caller_used() -> None:
    problem = Problem(404, "not-found", "Not found", "There is no exemplar 'x'.")
    behind = json.loads(bytes(problem_response(_request(prefix="/api/v1/signoff"), problem).body))
    direct = json.loads(bytes(problem_response(_request(), problem).body))
    assert behind["instance"] == "/api/v1/signoff/exemplars/x"
    assert direct["instance"] == "/v1/exemplars/x"


# --- one errors[] shape ---------------------------------------------------------------------------


def test_a_domains_errors_take_the_one_shape_keeping_message_and_extra_members() -> None:
    problem = Problem(
        422, "invalid-entries", "Invalid entries",
        errors=[
            {"field": "owner_id", "message": "the directory has not told the audit service of this person", "code": "unknown"},
            {"field": "teams", "message": "no file selected from team T1", "team_id": "T1"},
            FieldError(field="due_on", message="an action is due today or later", code="in-the-past"),
        ],
    )
    assert problem.errors == [
        {"field": "owner_id", "message": "the directory has not told the audit service of this person", "code": "unknown"},
        {"field": "teams", "message": "no file selected from team T1", "code": "invalid-entries", "team_id": "T1"},
        {"field": "due_on", "message": "an action is due today or later", "code": "in-the-past"},
    ]
    assert field_errors([{"field": "x", "message": "m"}], default_code="missing") == [{"field": "x", "message": "m", "code": "missing"}]
    assert Problem(422, "invalid-entries", "Invalid entries", errors=[]).errors is None


class _Section(BaseModel):
    answer: str = Field(pattern=r"^[a-z]+$")


class _Body(BaseModel):
    sections: list[_Section]


def _app() -> FastAPI:
    router = APIRouter()

    @router.post("/v1/things")
    async def make(body: _Body, month: Annotated[str, Query(pattern=r"^\d{4}-\d{2}$")]) -> dict[str, Any]:
        return {}

    @router.post("/v1/rules")
    async def rule(request: Request) -> dict[str, Any]:
        raise Problem(422, "invalid-input", "Invalid input", "No.", errors=[{"field": "sections.0.answer", "message": "not a word"}])

    settings = ServiceSettings(service_name="shape", identity_signing_key="unused", access_log=False)
    return create_service_app(settings, title="t", description="d", routers=[router])


def _client(app: FastAPI) -> httpx.AsyncClient:
    # No lifespan: nothing here needs MongoDB or RabbitMQ.
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app, raise_app_exceptions=False), base_url="http://service")


async def test_request_validation_and_a_domain_rule_give_the_same_errors_shape() -> None:
    async with _client(_app()) as http:
        invalid = await http.post("/v1/things?month=March", json={"sections": [{"answer": "Not A Word"}, {}]}, headers={"X-Forwarded-Prefix": "/api/v1/shape"})
        ruled = await http.post("/v1/rules")

    assert invalid.status_code == 422 and invalid.headers["content-type"] == "application/problem+json"
    body = invalid.json()
    assert body["instance"] == "/api/v1/shape/things"
    by_field = {e["field"]: e for e in body["errors"]}
    assert set(by_field) == {"body.sections.0.answer", "body.sections.1.answer", "query.month"}
    assert by_field["body.sections.0.answer"]["code"] == "string_pattern_mismatch"
    assert by_field["body.sections.1.answer"] == {"field": "body.sections.1.answer", "message": "Field required", "code": "missing"}
    assert by_field["query.month"]["code"] == "string_pattern_mismatch"

    assert ruled.status_code == 422
    assert ruled.json()["errors"] == [{"field": "sections.0.answer", "message": "not a word", "code": "invalid-input"}]
    for error in [*body["errors"], *ruled.json()["errors"]]:
        FieldError.model_validate(error)
        assert set(error) == {"field", "message", "code"}


# --- ProblemDetail's schema -----------------------------------------------------------------------


def test_problem_details_optional_members_are_neither_defaulted_to_null_nor_nullable() -> None:
    schema = ProblemDetail.model_json_schema()
    assert schema["required"] == ["type", "title", "status"]
    optional = {"detail", "instance", "correlation_id", "errors"}
    assert optional <= set(schema["properties"])
    for name in optional:
        prop = schema["properties"][name]
        assert "default" not in prop, name
        assert "null" not in json.dumps(prop), name
    assert schema["properties"]["errors"]["items"] == {"$ref": "#/$defs/FieldError"}
    assert schema["$defs"]["FieldError"]["required"] == ["field", "message", "code"]
