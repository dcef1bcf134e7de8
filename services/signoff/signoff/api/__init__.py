"""Sign-off's HTTP API: thin routes that call the use cases (``/v1/...``; the gateway serves
them as ``/api/v1/signoff/...``)."""

from __future__ import annotations

from fastapi import APIRouter

from . import cases, exemplars, reports, types

ROUTERS: list[APIRouter] = [types.router, exemplars.router, cases.router, reports.router]
