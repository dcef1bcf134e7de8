"""Running a service's time-driven work "as of" a date: ``POST /v1/scheduler/runs``, the same for
every service that has such work (notify's reminders and digest, audit's draws and follow-ups).

What is shared: how ``as_of`` is read (a date, taken as 09:00 in England that day, or an RFC 3339
date-time with its offset, between 2000 and 2099), the day in England a moment falls on (working
days are English days, not UTC ones), and the two guards: off unless ``SCHEDULER_AS_OF_ENABLED``
(404 problem+json, whoever asks) and administrators only (403). Each service's route runs the same
pass its background scheduler runs.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time
from typing import Any

from fastapi import Depends
from pydantic import BaseModel, ConfigDict, Field, field_validator

from .app import RuntimeDep
from .calendar import LOCAL, local_date
from .errors import Problem, forbidden
from .identity import CurrentPerson

#: A date given alone stands for this local time that day (the working day has begun).
DATE_ONLY_AT = time(9, 0)
#: Dates a scheduler can be run as of: anything else is a mistake (or would take the calendar past its range).
EARLIEST = date(2000, 1, 1)
LATEST = date(2099, 12, 31)
ADMINISTRATOR = "administrator"
_AS_OF = re.compile(r"^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2}))?$")


def parse_as_of(value: str) -> datetime:
    """``YYYY-MM-DD`` (09:00 in England that day) or an RFC 3339 date-time with its offset;
    ValueError, saying what is wrong, for anything else."""
    if not _AS_OF.match(value):
        raise ValueError("as_of is a date (YYYY-MM-DD) or a date-time with its offset (2026-03-16T09:00:00Z)")
    try:
        moment = datetime.combine(date.fromisoformat(value), DATE_ONLY_AT, LOCAL) if len(value) == 10 else datetime.fromisoformat(value)
    except ValueError as exc:
        raise ValueError(f"as_of is not a real date: {exc}") from None
    if not EARLIEST <= local_date(moment) <= LATEST:
        raise ValueError(f"as_of must fall between {EARLIEST} and {LATEST}")
    return moment


class SchedulerRunIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    as_of: str = Field(
        description="Run as of this moment: a date (taken as 09:00 in England that day) or an RFC 3339 date-time with its offset",
        examples=["2026-03-16", "2026-03-16T09:00:00Z"],
    )

    @field_validator("as_of")
    @classmethod
    def _valid(cls, value: str) -> str:
        parse_as_of(value)
        return value


def _enabled(runtime: RuntimeDep) -> None:
    if not getattr(runtime.settings, "scheduler_as_of_enabled", False):
        raise Problem(404, "scheduler-as-of-disabled", "Running the scheduler as of a date is disabled",
                      "This installation does not run its scheduler as of a given date (SCHEDULER_AS_OF_ENABLED is off).")


def _administrator(caller: CurrentPerson) -> None:
    if not caller.has_role(ADMINISTRATOR):
        raise forbidden("Only an administrator runs the scheduler as of a date.")


#: The route's guards, in order: disabled (404, whoever asks), then not an administrator (403).
GUARDS: list[Any] = [Depends(_enabled), Depends(_administrator)]
RESPONSES: dict[int | str, dict[str, Any]] = {
    403: {"description": "Not an administrator"},
    404: {"description": "Disabled here (SCHEDULER_AS_OF_ENABLED is off)"},
    422: {"description": "Not a date, or out of range"},
}
