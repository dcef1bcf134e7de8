"""The one OpenAPI document of every route the front end may call.

Each service's ``/openapi.json`` is fetched when asked for (cached for ``DOCS_CACHE_S``; a
service that does not answer keeps its last good document, or is listed under
``info.x-unavailable``), its ``/v1/x`` paths become ``/api/v1/<service>/x``, its operation ids
become ``<service>.<operationId>`` (the services already name them after the route function:
``resolution.raiseForm``) and its tags ``<service>: <tag>``, grouped per service
(``x-tagGroups``). Its schemas are merged under names a client generator can use as class names:
a name two services mean differently by becomes ``<Service><Name>`` (``NotifyStatusChangeOut``),
a name FastAPI qualified with its module (``audit__reporting__api__ActionOut``) becomes
``<Context><Name>`` (``ReportingActionOut``), and every schema's ``title`` is its name. The
gateway's own routes join them. Every error response is the one ``ProblemDetail`` schema as
``application/problem+json``, and every operation lists the errors the gateway itself may
answer with (401, 429, and for forwarded routes 502/503/504), with their ``Retry-After``.
"""

from __future__ import annotations

import asyncio
import copy
import logging
import re
import time
from typing import Any

import aiohttp
from shared.errors import ProblemDetail

log = logging.getLogger(__name__)

SCHEMA_REF = "#/components/schemas/"
PROBLEM = "ProblemDetail"
PROBLEM_CONTENT = {"application/problem+json": {"schema": {"$ref": f"{SCHEMA_REF}{PROBLEM}"}}}
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
_GATEWAY_ERRORS = {
    "401": "Missing, expired or invalid bearer token",
    "429": "Too many requests from this person; see Retry-After",
}
_FORWARDING_ERRORS = {
    "502": "The service gave no usable answer",
    "503": "The service cannot be reached; see Retry-After",
    "504": "The service did not answer in time",
}
#: Paths of the gateway's own document that belong in the API (not health, metrics or docs).
OWN_PREFIXES = ("/api/v1/", "/auth/")
UNAUTHENTICATED_PREFIXES = ("/auth/",)


_RETRY_AFTER = {
    "Retry-After": {"description": "Seconds to wait before trying again.", "schema": {"type": "integer", "examples": [5]}}
}


def _pascal(text: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[^0-9A-Za-z]+", text) if part)


def _clean_name(name: str) -> str:
    """A schema name a generator can use as a class name. FastAPI qualifies a model's name with
    its module when two models of one service share it (``audit__reporting__api__ActionOut``):
    keep the name and the module's context (``ReportingActionOut``)."""
    if "__" in name:
        parts = name.split("__")
        context = parts[1] if len(parts) > 2 else ""
        return _pascal(context) + _pascal(parts[-1])
    return re.sub(r"[^0-9A-Za-z_]", "_", name)


def _error_response(text: str, code: str) -> dict[str, Any]:
    response: dict[str, Any] = {"description": text, "content": PROBLEM_CONTENT}
    if code in ("429", "503"):
        response["headers"] = _RETRY_AFTER
    return response


def _walk_refs(node: Any, rename: dict[str, str]) -> Any:
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str) and value.startswith(SCHEMA_REF):
                name = value[len(SCHEMA_REF):]
                out[key] = SCHEMA_REF + rename.get(name, name)
            else:
                out[key] = _walk_refs(value, rename)
        return out
    if isinstance(node, list):
        return [_walk_refs(v, rename) for v in node]
    return node


def _refs_in(node: Any, found: set[str]) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str) and value.startswith(SCHEMA_REF):
                found.add(value[len(SCHEMA_REF):])
            else:
                _refs_in(value, found)
    elif isinstance(node, list):
        for value in node:
            _refs_in(value, found)


def _problem_schemas() -> dict[str, Any]:
    """``ProblemDetail`` and the models it uses (its ``errors[]`` items), as components."""
    schema = ProblemDetail.model_json_schema(ref_template=SCHEMA_REF + "{model}")
    schema["description"] = "RFC 9457 problem details: the body of every error response (application/problem+json)."
    schemas = {PROBLEM: schema}
    for name, definition in schema.pop("$defs", {}).items():
        schemas[name] = definition | {"title": name}
    return schemas


class Merger:
    """Builds the aggregated document, one source (the gateway or a service) at a time."""

    def __init__(self, *, title: str, version: str, description: str) -> None:
        self.doc: dict[str, Any] = {
            "openapi": "3.1.0",
            "info": {"title": title, "version": version, "description": description},
            "paths": {},
            "components": {
                "schemas": _problem_schemas(),
                "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
            },
            "servers": [{"url": "/", "description": "The gateway that serves this document"}],
            "security": [{"bearerAuth": []}],
            "tags": [],
        }
        self._tags: dict[str, str] = {}
        self._groups: dict[str, set[str]] = {}

    def add(self, source: str, document: dict[str, Any], *, forwarded: bool) -> None:
        """Add ``document`` of ``source``; for a service (``forwarded``) ``/v1/x`` → ``/api/v1/<source>/x``."""
        document = copy.deepcopy(document)
        schemas: dict[str, Any] = document.get("components", {}).get("schemas", {})
        merged = self.doc["components"]["schemas"]
        rename = {name: _clean_name(name) for name in schemas}
        for name, schema in schemas.items():
            clean = rename[name]
            if clean in merged and merged[clean] != _walk_refs(schema, rename) | {"title": clean}:
                rename[name] = _pascal(source) + clean
        for name, schema in schemas.items():
            merged.setdefault(rename[name], _walk_refs(schema, rename) | {"title": rename[name]})
        for path, item in document.get("paths", {}).items():
            if forwarded:
                if not path.startswith("/v1/"):
                    continue  # health, readiness, metrics: not for the front end
                public = f"/api/v1/{source}/{path[len('/v1/'):]}"
            else:
                if not path.startswith(OWN_PREFIXES):
                    continue
                public = path
            self.doc["paths"][public] = self._operations(source, public, _walk_refs(item, rename), forwarded=forwarded)

    def _operations(self, source: str, public: str, item: dict[str, Any], *, forwarded: bool) -> dict[str, Any]:
        for method in HTTP_METHODS:
            operation = item.get(method)
            if operation is None:
                continue
            if "operationId" in operation:
                operation["operationId"] = f"{source}.{operation['operationId']}"
            tags = [f"{source}: {t}" for t in operation.get("tags") or [source]]
            operation["tags"] = tags
            for tag in tags:
                self._tags.setdefault(tag, f"{tag.split(': ', 1)[1]} ({'the ' + source + ' service' if forwarded else 'the gateway'})")
                self._groups.setdefault(source, set()).add(tag)
            responses = operation.setdefault("responses", {})
            for code, response in list(responses.items()):
                if code == "default" or code[0] in "45":
                    responses[code] = _error_response(response.get("description") or "Error", code)
            if public.startswith(UNAUTHENTICATED_PREFIXES):
                operation["security"] = []
            else:
                for code, text in _GATEWAY_ERRORS.items():
                    responses.setdefault(code, _error_response(text, code))
            if forwarded:
                for code, text in _FORWARDING_ERRORS.items():
                    responses.setdefault(code, _error_response(text, code))
            responses.setdefault("default", {"description": "Any other error, as RFC 9457 problem details", "content": PROBLEM_CONTENT})
        return item

    def result(self, unavailable: list[str]) -> dict[str, Any]:
        doc = self.doc
        doc["paths"] = dict(sorted(doc["paths"].items()))
        doc["tags"] = [{"name": name, "description": text} for name, text in sorted(self._tags.items())]
        # Redoc shows one group per service; Swagger UI lists the tags with their service's prefix.
        doc["x-tagGroups"] = [
            {"name": "the gateway" if source == "gateway" else f"the {source} service", "tags": sorted(tags)}
            for source, tags in sorted(self._groups.items(), key=lambda kv: (kv[0] != "gateway", kv[0]))
        ]
        if unavailable:
            doc["info"]["x-unavailable"] = unavailable
            doc["info"]["description"] += f"\n\nNot included now (did not answer): {', '.join(unavailable)}."
        # Error responses now share ProblemDetail; drop the schemas nothing refers to any more.
        used: set[str] = set()
        _refs_in(doc["paths"], used)
        pending = list(used)
        schemas = doc["components"]["schemas"]
        while pending:
            found: set[str] = set()
            _refs_in(schemas.get(pending.pop(), {}), found)
            for name in found - used:
                used.add(name)
                pending.append(name)
        _refs_in(schemas[PROBLEM], used)
        used.add(PROBLEM)
        doc["components"]["schemas"] = {k: v for k, v in sorted(schemas.items()) if k in used}
        return doc


class OpenApiAggregator:
    """Fetches the services' documents (cached) and merges them with the gateway's own."""

    def __init__(self, services: dict[str, str], session: aiohttp.ClientSession, *, cache_s: float, fetch_timeout_s: float = 3.0) -> None:
        self.services = {name: url.rstrip("/") for name, url in services.items()}
        self.session = session
        self.cache_s = cache_s
        self.timeout = aiohttp.ClientTimeout(total=fetch_timeout_s)
        self._documents: dict[str, tuple[float, dict[str, Any]]] = {}

    async def _fetch(self, service: str) -> dict[str, Any] | None:
        cached = self._documents.get(service)
        if cached is not None and time.monotonic() - cached[0] < self.cache_s:
            return cached[1]
        try:
            async with self.session.get(f"{self.services[service]}/openapi.json", timeout=self.timeout) as resp:
                resp.raise_for_status()
                document = await resp.json()
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            log.warning("openapi of %s not fetched: %s", service, exc)
            return cached[1] if cached is not None else None
        self._documents[service] = (time.monotonic(), document)
        return document

    async def document(self, own: dict[str, Any]) -> dict[str, Any]:
        names = sorted(self.services)
        fetched = await asyncio.gather(*(self._fetch(n) for n in names))
        merger = Merger(
            title="QA platform API",
            version=own.get("info", {}).get("version", "1.0.0"),
            description=(
                "Every route the front end may call, through the gateway. Send `Authorization: Bearer <JWT>`. "
                "`/api/v1/<service>/...` is forwarded to that service; `/api/v1/me` and `/api/v1/directory/...` are the "
                "gateway's own. Errors are RFC 9457 problem details (`application/problem+json`). Events: `/api/asyncapi.json`."
            ),
        )
        merger.add("gateway", own, forwarded=False)
        unavailable = []
        for name, document in zip(names, fetched, strict=True):
            if document is None:
                unavailable.append(name)
            else:
                merger.add(name, document, forwarded=True)
        return merger.result(unavailable)
