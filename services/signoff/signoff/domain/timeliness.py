"""Timeliness for performance monitoring and statutory returns: a piece of work is on time when
the **latest version's counter-signature** falls within the type's timescale, counted in working
days (England and Wales) from its start date. An unlocked piece of work is not complete again until
its new version is counter-signed."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from shared.calendar import add_working_days, working_days_between


class Status(StrEnum):
    ON_TIME = "on_time"
    LATE = "late"
    #: Not yet counter-signed (or unlocked and not yet counter-signed again), still within time.
    OPEN = "open"
    #: Not yet counter-signed and already past its due date.
    OVERDUE = "overdue"
    #: The type has no timescale: reported, not judged.
    NO_TIMESCALE = "no_timescale"


@dataclass(frozen=True)
class Assessment:
    start_date: date
    due_on: date | None
    completed_on: date | None
    working_days_taken: int | None
    status: Status

    @property
    def on_time(self) -> bool | None:
        if self.status is Status.ON_TIME:
            return True
        if self.status is Status.LATE:
            return False
        return None


def assess(start: date, completed_on: date | None, timescale_working_days: int | None, today: date) -> Assessment:
    """``completed_on`` is the latest version's counter-signature date, or None while it is unsigned."""
    due = add_working_days(start, timescale_working_days) if timescale_working_days is not None else None
    if completed_on is not None:
        taken = working_days_between(start, completed_on)
        if due is None:
            status = Status.NO_TIMESCALE
        else:
            status = Status.ON_TIME if completed_on <= due else Status.LATE
        return Assessment(start, due, completed_on, taken, status)
    if due is None:
        return Assessment(start, None, None, None, Status.NO_TIMESCALE)
    return Assessment(start, due, None, None, Status.OVERDUE if today > due else Status.OPEN)


@dataclass
class Totals:
    total: int = 0
    counts: dict[str, int] = field(default_factory=lambda: {s.value: 0 for s in Status})

    def add(self, assessment: Assessment) -> None:
        self.total += 1
        self.counts[assessment.status.value] += 1

    @property
    def completed(self) -> int:
        return self.counts[Status.ON_TIME] + self.counts[Status.LATE] + self.counts[Status.NO_TIMESCALE]

    @property
    def percent_on_time(self) -> float | None:
        judged = self.counts[Status.ON_TIME] + self.counts[Status.LATE]
        return round(100 * self.counts[Status.ON_TIME] / judged, 1) if judged else None


def totals(assessments: Iterable[Assessment]) -> Totals:
    result = Totals()
    for a in assessments:
        result.add(a)
    return result
