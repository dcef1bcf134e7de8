"""The aggregated OpenAPI document and the event catalogue page, built from documents in hand."""

from __future__ import annotations

import json
from html import escape

from gateway.docs import api as docs_api
from gateway.docs.events_page import render
from gateway.docs.openapi import PROBLEM, Merger
from openapi_spec_validator import validate

from devstack import asyncapi


def _service_doc(schema_name: str, schema: dict[str, object]) -> dict[str, object]:
    ref = {"$ref": f"#/components/schemas/{schema_name}"}
    return {
        "openapi": "3.1.0",
        "info": {"title": "svc", "version": "1"},
        "paths": {
            "/v1/things/{id}": {
                "get": {
                    "operationId": "get_thing", "tags": ["things"], "summary": "Read a thing",
                    "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}],
                    "responses": {
                        "200": {"description": "OK", "content": {"application/json": {"schema": ref}}},
                        "404": {"description": "No such thing"},
                        "422": {"description": "Validation Error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/HTTPValidationError"}}}},
                    },
                }
            },
            "/healthz": {"get": {"operationId": "healthz", "responses": {"200": {"description": "OK"}}}},
        },
        "components": {
            "schemas": {
                schema_name: schema,
                "HTTPValidationError": {"type": "object", "properties": {"detail": {"type": "array", "items": {"$ref": "#/components/schemas/ValidationError"}}}},
                "ValidationError": {"type": "object"},
            }
        },
    }


def _merged() -> dict[str, object]:
    merger = Merger(title="QA", version="1", description="all")
    own = {
        "paths": {
            "/api/v1/me": {"get": {"operationId": "me", "tags": ["identity"], "responses": {"200": {"description": "OK"}}}},
            "/auth/dev/token": {"post": {"operationId": "token", "tags": ["dev issuer"], "responses": {"200": {"description": "OK"}}}},
            "/metrics": {"get": {"operationId": "metrics", "responses": {"200": {"description": "OK"}}}},
        }
    }
    merger.add("gateway", own, forwarded=False)
    merger.add("signoff", _service_doc("Thing", {"type": "object", "properties": {"a": {"type": "string"}}}), forwarded=True)
    merger.add("audit", _service_doc("Thing", {"type": "object", "properties": {"b": {"type": "integer"}}}), forwarded=True)
    return merger.result(["notify"])


def test_service_paths_are_mounted_under_the_gateway_and_operations_prefixed() -> None:
    doc = _merged()
    paths = doc["paths"]
    assert set(paths) == {"/api/v1/me", "/auth/dev/token", "/api/v1/signoff/things/{id}", "/api/v1/audit/things/{id}"}
    assert paths["/api/v1/signoff/things/{id}"]["get"]["operationId"] == "signoff.get_thing"
    assert paths["/api/v1/signoff/things/{id}"]["get"]["tags"] == ["signoff: things"]
    assert {t["name"] for t in doc["tags"]} == {"gateway: identity", "gateway: dev issuer", "signoff: things", "audit: things"}
    assert doc["info"]["x-unavailable"] == ["notify"]


def test_schemas_that_differ_under_one_name_are_kept_apart() -> None:
    doc = _merged()
    schemas = doc["components"]["schemas"]
    assert schemas["Thing"]["properties"] == {"a": {"type": "string"}}
    assert schemas["AuditThing"]["properties"] == {"b": {"type": "integer"}}
    ok = doc["paths"]["/api/v1/audit/things/{id}"]["get"]["responses"]["200"]
    assert ok["content"]["application/json"]["schema"]["$ref"] == "#/components/schemas/AuditThing"
    # A generator names its classes after titles as well as names: they agree, for every schema.
    assert all(schema["title"] == name for name, schema in schemas.items())


def test_a_name_fastapi_qualified_with_its_module_becomes_the_context_and_the_name() -> None:
    merger = Merger(title="QA", version="1", description="all")
    merger.add("audit", _service_doc("audit__reporting__api__ActionOut", {"type": "object", "title": "ActionOut"}), forwarded=True)
    schemas = merger.result([])["components"]["schemas"]
    assert schemas["ReportingActionOut"] == {"type": "object", "title": "ReportingActionOut"}
    assert not [name for name in schemas if "__" in name or "." in name]


def test_every_error_is_problem_details_and_the_gateways_own_errors_are_listed() -> None:
    doc = _merged()
    forwarded = doc["paths"]["/api/v1/signoff/things/{id}"]["get"]["responses"]
    assert {"401", "404", "422", "429", "502", "503", "504", "default"} <= set(forwarded)
    for code, response in forwarded.items():
        if code != "200":
            assert response["content"] == {"application/problem+json": {"schema": {"$ref": f"#/components/schemas/{PROBLEM}"}}}, code
    assert "HTTPValidationError" not in doc["components"]["schemas"]  # nothing refers to it any more
    token = doc["paths"]["/auth/dev/token"]["post"]
    assert token["security"] == [] and "401" not in token["responses"]
    assert "502" not in doc["paths"]["/api/v1/me"]["get"]["responses"]


def test_the_merged_document_is_valid_openapi() -> None:
    validate(_merged())


def test_the_event_page_lists_every_event_with_its_data_fields() -> None:
    document = asyncapi.document()
    html = render(document)
    for key, message in document["components"]["messages"].items():
        assert f'id="{key}"' in html
        assert escape(message["summary"]) in html
    assert "<code>case_id</code>" in html
    # Nothing to load from anywhere: no script, no linked stylesheet or image.
    assert "<script" not in html and "<link" not in html and "src=" not in html


def test_the_gateway_serves_the_asyncapi_document_the_generator_writes() -> None:
    assert docs_api.ASYNCAPI_FILE == asyncapi.GATEWAY_COPY
    assert asyncapi.GATEWAY_COPY.read_text() == asyncapi.render(), "regenerate: python -m devstack.asyncapi > docs/asyncapi.json"
    assert docs_api.asyncapi_document() == json.loads(asyncapi.render())
