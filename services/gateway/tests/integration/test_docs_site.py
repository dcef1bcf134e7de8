"""The documentation site served by the gateway: aggregated OpenAPI, AsyncAPI, and their pages."""

from __future__ import annotations

import re

from gateway.docs.api import asyncapi_document
from openapi_spec_validator import validate

from devstack.infra import free_port

from ..conftest import Upstream, serve_gateway


async def test_the_openapi_document_joins_the_gateways_routes_with_each_services_and_validates(service_env, upstream: Upstream) -> None:
    closed = f"http://127.0.0.1:{free_port()}"
    async with serve_gateway(signoff_url=upstream.url, resolution_url=closed, audit_url=closed, notify_url=closed, docs_cache_s=60) as gw:
        resp = await gw.http.get("/api/openapi.json")  # no token needed to read the docs
        assert resp.status_code == 200
        doc = resp.json()
        validate(doc)
        assert {"/api/v1/me", "/api/v1/directory/cases:import", "/api/v1/directory/people/{record_id}", "/api/v1/signoff/echo"} <= set(doc["paths"])
        assert not [p for p in doc["paths"] if p in ("/healthz", "/readyz", "/metrics", "/openapi.json")]
        assert doc["paths"]["/api/v1/signoff/echo"]["get"]["operationId"] == "signoff.echo"
        assert doc["servers"] == [{"url": "/", "description": "The gateway that serves this document"}]
        assert {"name": "the gateway", "tags": ["gateway: dev issuer", "gateway: directory", "gateway: identity", "gateway: integrations", "gateway: operations"]} in doc["x-tagGroups"]
        # Where tools look first, the same whole document (not only the gateway's own routes).
        assert (await gw.http.get("/openapi.json")).json() == doc
        assert doc["info"]["x-unavailable"] == ["audit", "notify", "resolution"]
        ids = [op["operationId"] for item in doc["paths"].values() for op in item.values()]
        assert len(ids) == len(set(ids))
        import_body = doc["paths"]["/api/v1/directory/cases:import"]["post"]["requestBody"]["content"]
        assert set(import_body) == {"application/json", "text/csv"}

        # Each service's document is cached: asking again does not fetch it again.
        assert upstream.openapi_fetches == 1
        assert "/api/v1/signoff/echo" in (await gw.http.get("/api/openapi.json")).json()["paths"]
        assert upstream.openapi_fetches == 1


async def test_the_pages_and_their_assets_come_from_the_gateway_itself(service_env) -> None:
    async with serve_gateway() as gw:
        page = await gw.http.get("/docs")
        assert page.status_code == 200 and "text/html" in page.headers["content-type"]
        sources = re.findall(r'(?:src|href)="([^"]+)"', page.text) + re.findall(r"url: '([^']+)'", page.text)
        assert sources and all(s.startswith("/") for s in sources), sources
        for asset in ("/docs/assets/swagger-ui-bundle.js", "/docs/assets/swagger-ui.css"):
            assert (await gw.http.get(asset)).status_code == 200, asset
        assert "docExpansion" in page.text and '"filter": true' in page.text  # collapsed, with a tag filter

        redoc = await gw.http.get("/redoc")  # Redoc too, from the gateway's own assets (no CDN, no web fonts)
        assert redoc.status_code == 200 and "/api/openapi.json" in redoc.text
        redoc_sources = re.findall(r'(?:src|href)="([^"]+)"', redoc.text)
        assert "/docs/assets/redoc.standalone.js" in redoc_sources and all(s.startswith("/") for s in redoc_sources), redoc_sources
        assert (await gw.http.get("/docs/assets/redoc.standalone.js")).status_code == 200

        asyncapi = await gw.http.get("/api/asyncapi.json")
        assert asyncapi.status_code == 200 and asyncapi.json() == asyncapi_document()
        events = await gw.http.get("/docs/events")
        assert events.status_code == 200
        assert "directory.case.changed.v1" in events.text and "<script" not in events.text
