"""Themed audits (Hillingdon 5.3): "carried out to look at specific issues such as supervision,
care plans, decision making and the child's views ... completed by the Lead QA Auditor on a
bi-monthly basis", each with a findings-and-recommendations report.

The bi-monthly rule: the year is six periods of two months (January-February, March-April, ...);
each period has one themed audit and one report, due by the period's last day. A period is named
by its first month (``2026-11`` is November-December 2026).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

from audit.cycles.domain.timetable import Month

from .report import audit_figures, themes_text

#: The programme of themed audits (``ProgrammeKind.THEMED``).
THEMED = "themed"
#: The seed's examples of a theme.
SUGGESTED_THEMES = ("supervision", "care plans", "decision making", "the child's views")


@dataclass(frozen=True, order=True)
class ThemedPeriod:
    """Two months, the first odd (January, March, May, July, September, November)."""

    first: Month

    @classmethod
    def parse(cls, text: str) -> ThemedPeriod:
        month = Month.parse(text)
        if month.month % 2 == 0:
            raise ValueError(f"{text!r} does not start a bi-monthly period: periods start in January, March, May, July, September or November")
        return cls(month)

    @classmethod
    def of(cls, month: Month) -> ThemedPeriod:
        return cls(month if month.month % 2 else month.plus(-1))

    def __str__(self) -> str:
        return str(self.first)

    @property
    def months(self) -> list[Month]:
        return [self.first, self.first.plus(1)]

    @property
    def due_on(self) -> date:
        return self.first.plus(1).last_day

    @property
    def label(self) -> str:
        second = self.first.plus(1)
        return f"{self.first.first_day:%B}-{second.first_day:%B %Y}"

    def next(self) -> ThemedPeriod:
        return ThemedPeriod(self.first.plus(2))


def periods_of_year(year: int) -> list[ThemedPeriod]:
    return [ThemedPeriod(Month(year, m)) for m in (1, 3, 5, 7, 9, 11)]


class PeriodState(StrEnum):
    ISSUED = "issued"
    DRAFT = "draft"
    #: Under way or not yet started: no report, the period not over.
    UPCOMING = "upcoming"
    #: The period is over and its report was not issued.
    OVERDUE = "overdue"


@dataclass(frozen=True)
class ScheduledPeriod:
    period: ThemedPeriod
    due_on: date
    state: PeriodState
    theme: str | None = None


def schedule(year: int, reports: dict[str, tuple[str, str]], today: date) -> list[ScheduledPeriod]:
    """The year's six periods; ``reports``: period -> (status, theme) of the reports that exist."""
    out = []
    for period in periods_of_year(year):
        status, theme = reports.get(str(period), (None, None))
        if status == "issued":
            state = PeriodState.ISSUED
        elif today > period.due_on:
            state = PeriodState.OVERDUE
        elif status == "draft":
            state = PeriodState.DRAFT
        else:
            state = PeriodState.UPCOMING
        out.append(ScheduledPeriod(period, period.due_on, state, theme))
    return out


def themed_figures(rows: list[Any], theme: str) -> dict[str, Any]:
    figures = audit_figures(rows)
    figures["theme"] = theme
    return figures


def themed_draft(figures: dict[str, Any]) -> dict[str, str]:
    findings = f"{figures['completed']} of {figures['audits']} themed audits completed."
    listed = themes_text(figures)
    return {"findings": f"{findings}\n{listed}".strip(), "recommendations": ""}
