"""Dispensations from the monthly audit (Kent 2): a person "on long term sick leave for more than
two-thirds of their work-time in any given month", "on annual leave for more than two-thirds",
or "seconded to work in another team that is not part of the online audit programme" is left out
of that month's sample, as auditor and as peer reviewer.

A dispensation is recorded by QA staff as the absence itself (from a day, to a day or open-ended
for a secondment); the months it covers are those in which it takes more than two-thirds of the
working days (the same test for a secondment: someone back for more than a third of a month audits
that month). Revisions and the withdrawal keep every earlier version (the store keeps the history).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

from ...common.errors import InvalidEntries, WrongStage
from .timetable import Month, months_between

#: A dispensation recorded as open-ended covers months up to this far ahead until it is ended.
OPEN_ENDED_HORIZON_MONTHS = 24
#: The longest absence one dispensation records (a longer one is recorded again when it runs out).
MAX_SPAN_DAYS = 3 * 366


class DispensationReason(StrEnum):
    SICK_LEAVE = "sick_leave"
    ANNUAL_LEAVE = "annual_leave"
    SECONDMENT = "secondment"


def absent_share(month: Month, starts_on: date, ends_on: date | None) -> float:
    """The share of ``month``'s working days inside the absence."""
    days = month.working_days()
    if not days:
        return 0.0
    absent = [d for d in days if d >= starts_on and (ends_on is None or d <= ends_on)]
    return len(absent) / len(days)


def months_covered(starts_on: date, ends_on: date | None) -> list[Month]:
    """The months in which the absence takes more than two-thirds of the working days."""
    last = Month.of(ends_on) if ends_on else Month.of(starts_on).plus(OPEN_ENDED_HORIZON_MONTHS)
    return [m for m in months_between(Month.of(starts_on), last) if absent_share(m, starts_on, ends_on) * 3 > 2]


def _check(reason: DispensationReason, starts_on: date, ends_on: date | None) -> None:
    errors = []
    if ends_on is None and reason is not DispensationReason.SECONDMENT:
        errors.append({"field": "ends_on", "message": "leave has an end day (only a secondment may be open-ended)"})
    if ends_on is not None and ends_on < starts_on:
        errors.append({"field": "ends_on", "message": "the absence ends before it starts"})
    if ends_on is not None and (ends_on - starts_on).days > MAX_SPAN_DAYS:
        errors.append({"field": "ends_on", "message": "record at most three years at a time"})
    if not errors and not months_covered(starts_on, ends_on):
        errors.append({
            "field": "ends_on",
            "message": "the absence takes no month's work-time by more than two-thirds, so it dispenses from no month's audit",
        })
    if errors:
        raise InvalidEntries("This absence is not a dispensation from auditing.", errors)


@dataclass
class Dispensation:
    id: str
    person_id: str
    reason: DispensationReason
    starts_on: date
    ends_on: date | None
    note: str
    recorded_by: str
    recorded_at: datetime
    updated_by: str
    updated_at: datetime
    version: int = 1
    withdrawn: bool = False
    withdrawal_reason: str = ""
    months: list[str] = field(default_factory=list)

    @classmethod
    def record(
        cls, *, dispensation_id: str, person_id: str, reason: DispensationReason, starts_on: date, ends_on: date | None, note: str, by: str, at: datetime
    ) -> Dispensation:
        _check(reason, starts_on, ends_on)
        return cls(
            id=dispensation_id, person_id=person_id, reason=reason, starts_on=starts_on, ends_on=ends_on, note=note,
            recorded_by=by, recorded_at=at, updated_by=by, updated_at=at,
            months=[str(m) for m in months_covered(starts_on, ends_on)],
        )

    @property
    def open_ended(self) -> bool:
        return self.ends_on is None

    def revise(self, *, reason: DispensationReason, starts_on: date, ends_on: date | None, note: str, by: str, at: datetime) -> None:
        if self.withdrawn:
            raise WrongStage("This dispensation was withdrawn; record a new one.")
        _check(reason, starts_on, ends_on)
        self.reason, self.starts_on, self.ends_on, self.note = reason, starts_on, ends_on, note
        self.months = [str(m) for m in months_covered(starts_on, ends_on)]
        self.updated_by, self.updated_at = by, at

    def withdraw(self, *, reason: str, by: str, at: datetime) -> None:
        if self.withdrawn:
            raise WrongStage("This dispensation was already withdrawn.")
        self.withdrawn, self.withdrawal_reason = True, reason
        self.updated_by, self.updated_at = by, at

    def covers(self, month: Month) -> bool:
        if self.withdrawn:
            return False
        if self.open_ended:
            return Month.of(self.starts_on) <= month and absent_share(month, self.starts_on, None) * 3 > 2
        return str(month) in self.months
