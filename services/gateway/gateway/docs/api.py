"""Documentation routes: the whole API's OpenAPI document at ``/api/openapi.json`` (and at
``/openapi.json``, where tools look first), rendered by Swagger UI at ``/docs`` and by Redoc at
``/redoc``; the AsyncAPI document at ``/api/asyncapi.json``, rendered at ``/docs/events``. They
need no token. Swagger UI's and Redoc's files come from the ``fastapi-offline`` package and are
served under ``/docs/assets``, so a closed network needs no CDN."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import fastapi_offline
from fastapi import APIRouter, FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from shared.app import RuntimeDep

from . import events_page
from .openapi import OpenApiAggregator

ASSETS_URL = "/docs/assets"
ASSETS_DIR = Path(fastapi_offline.__file__).parent / "static"
ASYNCAPI_FILE = Path(__file__).resolve().parents[1] / "static" / "asyncapi.json"
#: FastAPI's own pages load Swagger UI and ReDoc from a CDN, and its ``/openapi.json`` holds only
#: the gateway's own routes: the gateway replaces them all.
REPLACED = ("/docs", "/docs/oauth2-redirect", "/redoc", "/openapi.json")


@cache
def asyncapi_document() -> dict[str, Any]:
    """The AsyncAPI document written into the package by ``python -m devstack.asyncapi``."""
    return dict(json.loads(ASYNCAPI_FILE.read_text()))


def build_router() -> APIRouter:
    router = APIRouter(include_in_schema=False)

    @router.get("/api/openapi.json")
    @router.get("/openapi.json")
    async def openapi(request: Request, runtime: RuntimeDep) -> JSONResponse:
        aggregator: OpenApiAggregator = runtime.extra["docs"]
        return JSONResponse(await aggregator.document(request.app.openapi()))

    @router.get("/api/asyncapi.json")
    async def asyncapi() -> JSONResponse:
        return JSONResponse(asyncapi_document())

    @router.get("/docs", response_class=HTMLResponse)
    async def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/api/openapi.json",
            title="QA platform API",
            swagger_js_url=f"{ASSETS_URL}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS_URL}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS_URL}/favicon.png",
            swagger_ui_parameters={
                "persistAuthorization": True, "displayRequestDuration": True, "tryItOutEnabled": False,
                # 30-odd tag groups: start collapsed, with a filter box over the tags.
                "docExpansion": "none", "filter": True,
            },
        )

    @router.get("/redoc", response_class=HTMLResponse)
    async def redoc() -> HTMLResponse:
        return get_redoc_html(
            openapi_url="/api/openapi.json", title="QA platform API", redoc_js_url=f"{ASSETS_URL}/redoc.standalone.js",
            redoc_favicon_url=f"{ASSETS_URL}/favicon.png", with_google_fonts=False,
        )

    @router.get("/docs/events", response_class=HTMLResponse)
    async def events() -> HTMLResponse:
        return HTMLResponse(_events_html())

    return router


@cache
def _events_html() -> str:
    return events_page.render(asyncapi_document())


def install(app: FastAPI) -> None:
    """Replace FastAPI's CDN pages with the gateway's own, and serve the assets."""
    app.router.routes[:] = [r for r in app.router.routes if getattr(r, "path", None) not in REPLACED]
    app.include_router(build_router())
    app.mount(ASSETS_URL, StaticFiles(directory=ASSETS_DIR), name="docs-assets")
