"""Each service's OpenAPI document, made for the clients the front end generates from it.

FastAPI's own document leaves what a generator needs to guess: operation ids made of the
function and its path (``raise_form_v1_forms_post``), an ``If-Match`` declared optional where a
request without it is refused with 428, answers whose ``ETag`` and ``Location`` are not declared,
PDF, CSV and Server-Sent-Event answers with an empty schema. ``refine`` fixes these from the
routes themselves, so a new route is described the same way without anyone remembering to:

- **operationId** is the route function's name in lowerCamelCase (``raise_form`` → ``raiseForm``):
  short, stable, and unique because a test refuses two routes of one service with one name.
- **If-Match** is required on every route that depends on ``shared.http.required_if_match``.
- **ETag** is declared on the success answer of a route that sets it, takes If-Match, or answers a
  model with a ``version``/``revision``; **Location** on every 201; **Idempotency-Key** (and the answer's
  **Idempotent-Replayed**) where the route takes one.
- **Binary, CSV and event-stream** answers get a schema a generator understands.
- **Examples that look like the domain** (``EXAMPLES``: the demo authority's ids, a month, a grade,
  a date) on every parameter and property of those names that has none of its own, so Swagger UI,
  mock servers and fuzzers start from ``C-1001`` and ``good`` rather than pattern noise.

The gateway's merger (``gateway.docs.openapi``) then prefixes each id with the service's name.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from types import CodeType
from typing import Any

from fastapi import FastAPI, routing
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

#: The answer headers an operation may declare, with what they mean.
HEADERS: dict[str, dict[str, Any]] = {
    "ETag": {
        "description": "The version of the resource in this answer: send it back as If-Match to change it.",
        "schema": {"type": "string", "examples": ['"3"']},
    },
    "Location": {
        "description": "The gateway path of the resource this request created.",
        "schema": {"type": "string", "examples": ["/api/v1/signoff/exemplars/EX-2026-000123"]},
    },
    "Idempotent-Replayed": {
        "description": "`true` when this answer repeats what an earlier request with the same Idempotency-Key created.",
        "schema": {"type": "string", "enum": ["true"]},
    },
}
IDEMPOTENCY_KEY_PARAMETER: dict[str, Any] = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": "Any unique string (a UUID): sending the same request again with the same key returns what the "
    "first one created instead of creating it twice. Kept for a day.",
    "schema": {"type": "string", "minLength": 1, "maxLength": 200, "examples": ["5f0c1d9e-7a43-4a7e-9b1f-2f6f1c2d8e11"]},
}
_HEX_ID = "3f2a9c0e5b7d4e1f8a6b2c9d0e1f2a3b"  # what the services' uuid4().hex ids look like
#: Example values by parameter or property name: the demo authority's (``devstack/demo.py``).
EXAMPLES: dict[str, str] = {
    **dict.fromkeys(("person_id", "allocated_worker_id", "worker_id", "created_by", "by"), "P-SW1"),
    **dict.fromkeys(("auditor_id", "team_manager_id", "manager_id"), "P-TM3"),
    **dict.fromkeys(("peer_reviewer_id",), "P-PR"),
    **dict.fromkeys(("counter_signer_id", "line_manager_id"), "P-DS"),
    **dict.fromkeys(("delegate_id",), "P-SW3"),
    **dict.fromkeys(("case_id",), "C-1001"),
    **dict.fromkeys(("team_id",), "T-DA"),
    **dict.fromkeys(("tool_id",), "kent-online-peer-review"),
    **dict.fromkeys(("type_code", "code"), "INIASS"),
    **dict.fromkeys(("theme_id",), "care-planning"),
    **dict.fromkeys((
        "exemplar_id", "audit_id", "form_id", "file_id", "review_id", "observation_id", "record_id_hex", "pdf_id",
        "dispensation_id", "sheet_id", "session_id", "delegation_id", "task_id", "job_id", "endpoint_id", "integrator_id",
    ), _HEX_ID),
    **dict.fromkeys(("month",), "2026-11"),
    **dict.fromkeys(("period",), "2026-Q4"),
    **dict.fromkeys(("grade", "overall_grade"), "good"),
    **dict.fromkeys(("due_on", "raised_on", "date_commenced", "opened_on", "as_of", "today"), "2026-11-16"),
    **dict.fromkeys(("comments", "comment"), "Agreed: the plan is proportionate to the risks identified."),
    **dict.fromkeys(("reason",), "The outcome was recorded wrongly."),
}
_BINARY = {"type": "string", "format": "binary"}
_TEXT_SCHEMAS: dict[str, dict[str, Any]] = {
    "application/pdf": {**_BINARY, "description": "A PDF document."},
    "application/octet-stream": {**_BINARY, "description": "A file."},
    "text/csv": {"type": "string", "description": "Comma-separated values, UTF-8, one header row."},
    "text/event-stream": {
        "type": "string",
        "description": "Server-Sent Events (text/event-stream): `id`, `event` and `data` (JSON) lines per event; "
        "reconnect with Last-Event-ID.",
    },
}
_VERSION_FIELDS = ("version", "revision")


def camel(name: str) -> str:
    """``raise_form`` → ``raiseForm``; ``list_`` → ``list``."""
    head, *rest = name.strip("_").split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest if part)


def _calls(dependant: Dependant) -> Iterator[Callable[..., Any]]:
    for dep in dependant.dependencies:
        if dep.call is not None:
            yield dep.call
        yield from _calls(dep)


def _constants(code: CodeType) -> Iterator[object]:
    for const in code.co_consts:
        if isinstance(const, CodeType):
            yield from _constants(const)
        else:
            yield const


def _sets_header(route: Any, header: str) -> bool:
    code = getattr(route.endpoint, "__code__", None)
    return code is not None and header in set(c for c in _constants(code) if isinstance(c, str))


def _schema_of(doc: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
        return dict(doc.get("components", {}).get("schemas", {}).get(ref.rsplit("/", 1)[1], {}))
    return schema


def _answers_a_version(doc: dict[str, Any], response: dict[str, Any]) -> bool:
    schema = response.get("content", {}).get("application/json", {}).get("schema")
    if not isinstance(schema, dict):
        return False
    properties = _schema_of(doc, schema).get("properties", {})
    return any(name in properties for name in _VERSION_FIELDS)


def _routes(app: FastAPI) -> Iterator[Any]:
    """The documented routes as FastAPI sees them (``RouteContext``: the path with its prefixes)."""
    for context in routing.iter_route_contexts(app.routes):
        if isinstance(context.original_route, APIRoute) and context.include_in_schema:
            yield context


def operation_ids(app: FastAPI) -> dict[tuple[str, str], str]:
    """``(METHOD, path) → operationId`` for every documented route, and the clashes: two routes of
    one service with one function name. A clash keeps the first name and qualifies the others with
    their path (a test of every service refuses clashes, so this only keeps a document valid)."""
    ids: dict[tuple[str, str], str] = {}
    taken: set[str] = set()
    for route in _routes(app):
        for method in sorted(route.methods):
            op = camel(route.name)
            if op in taken:
                op += "".join(camel(part).capitalize() for part in route.path_format.split("/") if part and "{" not in part)
            taken.add(op)
            ids[(method, route.path_format)] = op
    return ids


def clashing_operation_ids(app: FastAPI) -> list[str]:
    """Route function names two documented routes of ``app`` share (each should name what it does)."""
    seen: dict[str, str] = {}
    clashes = []
    for route in _routes(app):
        op, where = camel(route.name), route.path_format
        if op in seen and seen[op] != where:
            clashes.append(f"{op}: {seen[op]} and {where}")
        seen.setdefault(op, where)
    return clashes


def refine(app: FastAPI, doc: dict[str, Any]) -> dict[str, Any]:
    """``doc`` (the app's FastAPI document) with the refinements above, changed in place."""
    from .http import required_if_match
    from .idempotency import idempotency_key

    ids = operation_ids(app)
    for route in _routes(app):
        item = doc.get("paths", {}).get(route.path_format, {})
        calls = set(_calls(route.original_route.dependant))
        for method in route.methods:
            operation = item.get(method.lower())
            if operation is None:
                continue
            operation["operationId"] = ids[(method, route.path_format)]
            if_match_required = required_if_match in calls
            for parameter in operation.get("parameters", []):
                if parameter.get("in") == "header" and parameter.get("name", "").lower() == "if-match":
                    if if_match_required:
                        parameter["required"] = True
                        parameter["schema"] = {"type": "string", "examples": ['"3"']}
                    parameter.setdefault(
                        "description", "The ETag of the version you read; a change made since is refused with 412."
                    )
            if idempotency_key in calls:
                parameters = operation.setdefault("parameters", [])
                if not any(p.get("name", "").lower() == "idempotency-key" for p in parameters):
                    parameters.append(IDEMPOTENCY_KEY_PARAMETER)
            responses = operation.get("responses", {})
            for code, response in responses.items():
                _describe_content(response)
                if not code.startswith("2"):
                    continue
                headers = response.setdefault("headers", {})
                if code == "201":
                    headers.setdefault("Location", HEADERS["Location"])
                if _sets_header(route, "ETag") or if_match_required or _answers_a_version(doc, response):
                    headers.setdefault("ETag", HEADERS["ETag"])
                if idempotency_key in calls:
                    headers.setdefault("Idempotent-Replayed", HEADERS["Idempotent-Replayed"])
                if not headers:
                    response.pop("headers")
    _add_examples(doc)
    return doc


def _example_for(name: str, schema: dict[str, Any]) -> str | None:
    """The example of ``name`` if ``schema`` takes it (a string, no enum, the pattern matched)."""
    value = EXAMPLES.get(name)
    if value is None or "enum" in schema or "const" in schema or schema.get("examples") or schema.get("example"):
        return None
    options = schema.get("anyOf", [schema])
    strings = [o for o in options if isinstance(o, dict) and o.get("type") == "string" and "format" not in o]
    if not strings:
        return None
    pattern = strings[0].get("pattern")
    if pattern is not None and re.search(pattern, value) is None:
        return None
    if not strings[0].get("minLength", 0) <= len(value) <= strings[0].get("maxLength", len(value)):
        return None
    return value


def _add_examples(doc: dict[str, Any]) -> None:
    for item in doc.get("paths", {}).values():
        for operation in item.values():
            for parameter in operation.get("parameters", []) if isinstance(operation, dict) else []:
                schema = parameter.get("schema", {})
                value = _example_for(parameter.get("name", ""), schema)
                if value is not None and "example" not in parameter and "examples" not in parameter:
                    schema["examples"] = [value]
    for schema in doc.get("components", {}).get("schemas", {}).values():
        for name, prop in schema.get("properties", {}).items():
            if isinstance(prop, dict):
                value = _example_for(name, prop)
                if value is not None:
                    prop["examples"] = [value]


def _describe_content(response: dict[str, Any]) -> None:
    for media_type, content in response.get("content", {}).items():
        base = media_type.split(";")[0].strip()
        if base in _TEXT_SCHEMAS and not content.get("schema"):
            content["schema"] = dict(_TEXT_SCHEMAS[base])
        elif base in _TEXT_SCHEMAS and content.get("schema") in ({}, {"type": "string"}):
            content["schema"] = dict(_TEXT_SCHEMAS[base])


def install(app: FastAPI) -> None:
    """Serve the refined document at ``/openapi.json`` (built once, on first request)."""
    plain = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = refine(app, plain())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]

