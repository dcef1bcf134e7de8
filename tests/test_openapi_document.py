"""The API document the front end generates its clients from, built from every service's own
document and merged as the gateway merges them (no servers needed): names a generator can use,
headers the API really uses, media types described. The generators themselves run against the
served document in tests/e2e/test_generated_clients.py."""

from __future__ import annotations

import importlib
import re
from functools import cache
from typing import Any

import pytest
from fastapi import FastAPI
from gateway.docs.openapi import Merger
from openapi_spec_validator import validate

from shared import openapi

SERVICES = ("gateway", "signoff", "resolution", "audit", "notify")


@cache
def app_of(service: str) -> FastAPI:
    app: FastAPI = importlib.import_module(f"{service}.main").create_app()
    return app


@pytest.fixture(autouse=True)
def _settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IDENTITY_SIGNING_KEY", "not-a-secret")
    monkeypatch.setenv("DEV_ISSUER_ENABLED", "true")


@cache
def merged() -> dict[str, Any]:
    merger = Merger(title="QA platform API", version="1", description="all")
    merger.add("gateway", app_of("gateway").openapi(), forwarded=False)
    for service in SERVICES[1:]:
        merger.add(service, app_of(service).openapi(), forwarded=True)
    return merger.result([])


def operations(doc: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(method, path, op) for path, item in doc["paths"].items() for method, op in item.items() if isinstance(op, dict)]


@pytest.mark.parametrize("service", SERVICES)
def test_each_route_function_names_one_operation(service: str) -> None:
    assert openapi.clashing_operation_ids(app_of(service)) == []


def test_operation_ids_are_short_unique_and_name_the_service() -> None:
    ids = [op["operationId"] for _, _, op in operations(merged())]
    assert len(ids) == len(set(ids))
    for op_id in ids:
        assert re.fullmatch(r"(gateway|signoff|resolution|audit|notify)\.[a-z][A-Za-z0-9]*", op_id), op_id
    assert max(len(i) for i in ids) <= 45, max(ids, key=len)
    doc = merged()
    assert doc["paths"]["/api/v1/resolution/forms"]["post"]["operationId"] == "resolution.raiseForm"
    assert doc["paths"]["/api/v1/signoff/exemplars/{exemplar_id}/counter-signature"]["post"]["operationId"] == "signoff.counterSign"


def test_schema_names_and_titles_are_one_and_the_same_and_usable_as_class_names() -> None:
    schemas = merged()["components"]["schemas"]
    for name, schema in schemas.items():
        assert re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", name), name
        assert schema.get("title") == name, name
    titles = [s["title"] for s in schemas.values()]
    assert len(titles) == len(set(titles))


def test_if_match_is_required_where_a_request_without_it_is_refused() -> None:
    counter_sign = merged()["paths"]["/api/v1/signoff/exemplars/{exemplar_id}/counter-signature"]["post"]
    (if_match,) = [p for p in counter_sign["parameters"] if p["name"].lower() == "if-match"]
    assert if_match["required"] is True
    assert "ETag" in counter_sign["responses"]["200"]["headers"]


def test_a_creation_declares_its_location_and_etag_and_its_idempotency_key() -> None:
    start = merged()["paths"]["/api/v1/signoff/exemplars"]["post"]
    assert {"Location", "ETag"} <= set(start["responses"]["201"]["headers"])
    allocate = merged()["paths"]["/api/v1/audit/audits"]["post"]
    assert any(p["name"] == "Idempotency-Key" and p["in"] == "header" and not p["required"] for p in allocate["parameters"])
    assert {"Location", "Idempotent-Replayed"} <= set(allocate["responses"]["201"]["headers"])


def test_pdf_csv_and_event_stream_answers_have_a_schema_a_generator_understands() -> None:
    doc = merged()
    pdf = doc["paths"]["/api/v1/audit/audits/{audit_id}/pdfs/{pdf_id}"]["get"]["responses"]["200"]["content"]
    assert pdf["application/pdf"]["schema"]["format"] == "binary"
    stream = doc["paths"]["/api/v1/notify/tasks/stream"]["get"]["responses"]["200"]["content"]
    assert stream["text/event-stream"]["schema"]["type"] == "string"
    for method, path, op in operations(doc):
        for code, response in op["responses"].items():
            for media, content in response.get("content", {}).items():
                assert content.get("schema"), f"{method} {path} {code} {media}"


def test_the_gateways_retryable_errors_say_when_to_retry() -> None:
    for _, _, op in operations(merged()):
        for code in ("429", "503"):
            if code in op["responses"]:
                assert "Retry-After" in op["responses"][code].get("headers", {})


def test_the_merged_document_is_valid_openapi_3_1() -> None:
    validate(merged())


def test_camel_case_of_route_functions() -> None:
    assert openapi.camel("raise_form") == "raiseForm"
    assert openapi.camel("list_") == "list"
    assert openapi.camel("first_sign") == "firstSign"


def test_ids_months_and_grades_have_examples_that_look_like_the_domain() -> None:
    doc = merged()
    (exemplar_id,) = doc["paths"]["/api/v1/signoff/exemplars/{exemplar_id}"]["get"]["parameters"]
    assert re.fullmatch(r"[0-9a-f]{32}", exemplar_id["schema"]["examples"][0])
    assert doc["components"]["schemas"]["ExemplarCreate"]["properties"]["case_id"]["examples"] == ["C-1001"]
    # Every example given satisfies its own schema's pattern.
    for method, path, op in operations(doc):
        for parameter in op.get("parameters", []):
            schema = parameter.get("schema", {})
            for example in schema.get("examples", []):
                if isinstance(example, str) and "pattern" in schema:
                    assert re.search(schema["pattern"], example), f"{method} {path} {parameter['name']}: {example}"
