"""Run notify's time-driven work "as of" a date: ``POST /v1/scheduler/runs`` (through the gateway,
``/api/v1/notify/scheduler/runs``). The reminders and the mid-month digest go exactly as the
background scheduler would send them at that moment (the same pass, ``SchedulerLoop.run_at``),
each once however often it runs, so a staging front end or an acceptance test can show a reminder
ten working days on without waiting ten working days.

Administrators only, and only where ``SCHEDULER_AS_OF_ENABLED`` is on (``./dev up`` and the test
fixtures turn it on; off by default): elsewhere the route answers 404 problem+json.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time
from typing import Literal

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field, field_validator
from shared.app import RuntimeDep
from shared.errors import Problem
from shared.identity import CurrentPerson

from .scheduler import SchedulerLoop
from .timezone import LOCAL, local_date

ADMINISTRATOR = "administrator"
#: A date given alone stands for this local time that day (the working day has begun).
DATE_ONLY_AT = time(9, 0)
#: Dates the scheduler can be run as of: anything else is a mistake (or would take the calendar past its range).
EARLIEST = date(2000, 1, 1)
LATEST = date(2099, 12, 31)
_AS_OF = re.compile(r"^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2}))?$")


def parse_as_of(value: str) -> datetime:
    """``YYYY-MM-DD`` (09:00 local time, Europe/London, that day) or an RFC 3339 date-time with
    its offset; ValueError for anything else."""
    if not _AS_OF.match(value):
        raise ValueError("as_of is a date (YYYY-MM-DD) or a date-time with its offset (2026-03-16T09:00:00Z)")
    try:
        moment = datetime.combine(date.fromisoformat(value), DATE_ONLY_AT, LOCAL) if len(value) == 10 else datetime.fromisoformat(value)
    except ValueError as exc:
        raise ValueError(f"as_of is not a real date: {exc}") from None
    if not EARLIEST <= local_date(moment) <= LATEST:
        raise ValueError(f"as_of must fall between {EARLIEST} and {LATEST}")
    return moment


class NotifySchedulerRunIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    as_of: str = Field(
        description="Run as of this moment: a date (taken as 09:00 Europe/London that day) or an RFC 3339 date-time with its offset",
        examples=["2026-03-16", "2026-03-16T09:00:00Z"],
    )

    @field_validator("as_of")
    @classmethod
    def _valid(cls, value: str) -> str:
        parse_as_of(value)
        return value


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


def _enabled(runtime: RuntimeDep) -> None:
    if not runtime.settings.scheduler_as_of_enabled:
        raise Problem(404, "scheduler-as-of-disabled", "Running the scheduler as of a date is disabled",
                      "This installation does not run its scheduler as of a given date (SCHEDULER_AS_OF_ENABLED is off).")


def _administrator(caller: CurrentPerson) -> None:
    if not caller.has_role(ADMINISTRATOR):
        raise Problem(403, "forbidden", "Not allowed", "Only an administrator runs the scheduler as of a date.")


def build_router() -> APIRouter:
    """The route, without a prefix: ``api.build_router`` includes it under ``/v1``."""
    router = APIRouter(tags=["scheduler"])

    @router.post(
        "/scheduler/runs",
        response_model=NotifySchedulerRunOut,
        dependencies=[Depends(_enabled), Depends(_administrator)],
        summary="Send the reminders and digest due as of a date, as the scheduler would (administrators; local and test settings)",
        responses={403: {"description": "Not an administrator"}, 404: {"description": "Disabled here (SCHEDULER_AS_OF_ENABLED is off)"},
                   422: {"description": "Not a date, or out of range"}},
    )
    async def run_scheduler(body: NotifySchedulerRunIn, runtime: RuntimeDep) -> NotifySchedulerRunOut:
        moment = parse_as_of(body.as_of)
        scheduler: SchedulerLoop = runtime.extra["scheduler"]
        done = await scheduler.run_at(moment)
        status: Literal["ran", "skipped"] = "ran" if done.working_day else "skipped"
        return NotifySchedulerRunOut(
            as_of=moment, local_date=local_date(moment), working_day=done.working_day,
            jobs=[NotifySchedulerJobOut(job="reminders", status=status, count=done.reminders),
                  NotifySchedulerJobOut(job="digests", status=status, count=done.digests)],
        )

    return router
