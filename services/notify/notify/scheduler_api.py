"""Run notify's time-driven work "as of" a date: ``POST /v1/scheduler/runs`` (through the gateway,
``/api/v1/notify/scheduler/runs``). The reminders and the mid-month digest go exactly as the
background scheduler would send them at that moment (the same pass, ``SchedulerLoop.run_at``),
each once however often it runs, so a staging front end or an acceptance test can show a reminder
ten working days on without waiting ten working days.

Administrators only, and only where ``SCHEDULER_AS_OF_ENABLED`` is on (``./dev up`` and the test
fixtures turn it on; off by default): elsewhere the route answers 404 problem+json.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field
from shared.app import RuntimeDep
from shared.calendar import local_date
from shared.scheduler_runs import scheduler_runs_route

from shared import as_of

from .scheduler import SchedulerLoop


class NotifySchedulerJobOut(BaseModel):
    job: Literal["reminders", "digests"]
    status: Literal["ran", "skipped"] = Field(description="skipped: not a working day, so nothing was looked at")
    count: int = Field(description="Reminders (or digests) sent by this run; 0 when already sent")


class NotifySchedulerRunOut(BaseModel):
    service: Literal["notify"] = "notify"
    as_of: datetime = Field(description="The moment the pass ran as")
    local_date: date = Field(description="That moment's day in England: the day reminders and digests are counted on")
    working_day: bool
    jobs: list[NotifySchedulerJobOut]


def build_router() -> APIRouter:
    """The route, without a prefix: ``api.build_router`` includes it under ``/v1``."""
    router = APIRouter(tags=["scheduler"])

    @scheduler_runs_route(
        router, NotifySchedulerRunOut,
        "Send the reminders and digest due as of a date, as the scheduler would (administrators; local and test settings)",
    )
    async def run_scheduler(body: as_of.SchedulerRunIn, runtime: RuntimeDep) -> NotifySchedulerRunOut:
        moment = as_of.parse_as_of(body.as_of)
        scheduler: SchedulerLoop = runtime.extra["scheduler"]
        done = await scheduler.run_at(moment)
        status: Literal["ran", "skipped"] = "ran" if done.working_day else "skipped"
        return NotifySchedulerRunOut(
            as_of=moment, local_date=local_date(moment), working_day=done.working_day,
            jobs=[NotifySchedulerJobOut(job="reminders", status=status, count=done.reminders),
                  NotifySchedulerJobOut(job="digests", status=status, count=done.digests)],
        )

    return router
