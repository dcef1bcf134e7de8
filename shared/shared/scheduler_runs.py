"""``POST /v1/scheduler/runs``: the route through which a service runs its time-driven work "as
of" a date, as its background scheduler would then (administrators only, and only where
``SCHEDULER_AS_OF_ENABLED`` is on: ``shared.as_of``). Each service declares what its run answers
and says what the pass does; the path, the guards and the problem answers are the same everywhere.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from fastapi import APIRouter
from pydantic import BaseModel

from . import as_of

Route = TypeVar("Route", bound=Callable[..., Any])


def scheduler_runs_route(router: APIRouter, response_model: type[BaseModel], summary: str) -> Callable[[Route], Route]:
    """Declare ``POST /scheduler/runs`` on ``router``: the body is ``as_of.SchedulerRunIn``."""
    return router.post(
        "/scheduler/runs", response_model=response_model, dependencies=as_of.GUARDS, summary=summary, responses=as_of.RESPONSES
    )
