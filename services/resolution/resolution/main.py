"""The resolution service's app factory: ``uvicorn resolution.main:create_app --factory --port 8002``."""

from __future__ import annotations

from fastapi import FastAPI
from shared.app import ConsumerSpec, create_service_app
from shared.clock import Clock
from shared.errors import Problem

from . import directory, rollups, store
from .api import ROUTERS
from .domain import InvalidInput, NotAllowed, ResolutionError, RuleConflict, UnknownItem
from .settings import ResolutionSettings

_STATUS = {NotAllowed: 403, RuleConflict: 409, InvalidInput: 422, UnknownItem: 404}


def _problem(exc: Exception) -> Problem:
    assert isinstance(exc, ResolutionError)
    status = next((code for kind, code in _STATUS.items() if isinstance(exc, kind)), 400)
    return Problem(status, exc.slug, exc.title, exc.detail)


def create_app(settings: ResolutionSettings | None = None, *, clock: Clock | None = None) -> FastAPI:
    settings = settings or ResolutionSettings()
    return create_service_app(
        settings,
        title="Resolution",
        description="Resolution: concerns about a child's plan, escalation stages and delegated sections.",
        routers=ROUTERS,
        indexes=[*store.INDEXES, *directory.INDEXES],
        consumers=[ConsumerSpec("directory", lambda runtime: directory.subscriptions(runtime.db), batch=True)],
        domain_errors={ResolutionError: _problem},
        workers=[lambda runtime: rollups.folder(runtime.db)],  # the reports' pending changes (shared.rollups)
        clock=clock,
    )
