"""The signoff service's app factory: ``uvicorn signoff.main:create_app --factory --port 8001``."""

from __future__ import annotations

from fastapi import FastAPI
from shared.app import Runtime, create_service_app
from shared.clock import Clock
from shared.errors import Problem, forbidden
from shared.problems import stale_problem
from shared.versioned import Stale

from . import directory, rollups, store, type_store
from .api import ROUTERS
from .consumers import CONSUMERS
from .domain.catalogue import SEED_TYPES
from .domain.errors import Conflict, InvalidInput, Locked, MandatoryUnanswered, NotAllowed, NotFound, ReadFirstNotSigned
from .settings import SignoffSettings

DOMAIN_ERRORS = {
    NotAllowed: lambda e: forbidden(str(e)),
    NotFound: lambda e: Problem(404, "not-found", "Not found", str(e)),
    Locked: lambda e: Problem(409, "locked", "Locked", str(e)),
    Conflict: lambda e: Problem(409, "conflict", "Conflict", str(e)),
    # "the district manager will have read the strategy discussion exemplar" (seed 000)
    ReadFirstNotSigned: lambda e: Problem(
        409, "strategy-discussion-not-signed", "Strategy discussion not signed off", str(e),
        case_id=e.case_id, needs_type_code=e.needs_type_code,
    ),
    # The common mapping (shared.problems), in sign-off's word for its versions.
    Stale: lambda e: stale_problem(e, counter="revision"),
    InvalidInput: lambda e: Problem(422, "invalid-input", "Invalid input", str(e), errors=[x.as_dict() for x in e.errors]),
    MandatoryUnanswered: lambda e: Problem(
        422, "mandatory-questions-unanswered", "Mandatory questions unanswered", str(e),
        version=e.version, unanswered=[{"question_id": u.question_id, "text": u.text} for u in e.unanswered],
    ),
}


def create_app(settings: SignoffSettings | None = None, clock: Clock | None = None) -> FastAPI:
    settings = settings or SignoffSettings()

    async def on_startup(runtime: Runtime) -> None:
        if settings.seed_exemplar_types:
            await type_store.seed(runtime.uow, SEED_TYPES)

    return create_service_app(
        settings,
        title="Sign-off",
        description="Sign-off: exemplars, versions, signatures and counter-signatures, chronology, workflow messages, timeliness.",
        routers=ROUTERS,
        indexes=[*store.INDEXES, *type_store.INDEXES, *directory.INDEXES],
        consumers=CONSUMERS,
        domain_errors=DOMAIN_ERRORS,
        on_startup=on_startup,
        workers=[lambda runtime: rollups.folder(runtime.db)],  # the timeliness report's pending changes (shared.rollups)
        clock=clock,
    )
