"""The monthly cycle's months and timetable, on the working-days calendar of England and Wales.

Kent 4.4: "approximately 5 days before the start of a month, each team manager receives an email
asking them to quality assure practice in the selected case" — the draw (and so the allocation
notices) falls due 5 *working* days before the month. The audit is due by the end of the month
(4.2); halfway through, assistant directors and service managers get the list of incomplete audits;
"an automated email is sent ... every 10 working days (until the audit has been submitted)".

Who sends what: the audit service publishes the allocation (``audit.audit.allocated.v1`` with
``due_on``) and the submissions; the notify service turns them into work-tray tasks and chases
them. Its rule (``notify.domain.schedule``) is the one here: reminder *n* falls ``n × 10`` working
days after the day the task was issued, counted with ``shared.calendar.add_working_days``. The
dates computed here are what the cycle shows; notify is the one that sends.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date

from shared.calendar import add_working_days, is_working_day, next_working_day

_MONTH = re.compile(r"^([0-9]{4})-(0[1-9]|1[0-2])$")
_QUARTER = re.compile(r"^([0-9]{4})-Q([1-4])$")
#: The years a month may name (the API's month patterns say the same: ``(19|2[0-9])[0-9]{2}``), so
#: that every date the timetable derives from one (a draw 5 working days before it, a month or two
#: after it) is a date; year 0 is not.
MIN_YEAR, MAX_YEAR = 1900, 2999

#: Kent 4.4: allocation notices "approximately 5 days before the start of a month".
DRAW_WORKING_DAYS_BEFORE = 5
#: Kent 4.2: reminders every 10 working days until submitted.
REMINDER_WORKING_DAYS = 10
#: Kent 4.2: "halfway through each month" (notify's ``DIGEST_DAY_OF_MONTH`` default).
DIGEST_DAY_OF_MONTH = 15


@dataclass(frozen=True, order=True)
class Month:
    year: int
    month: int

    @classmethod
    def parse(cls, text: str) -> Month:
        match = _MONTH.match(text)
        if not match:
            raise ValueError(f"{text!r} is not a month (YYYY-MM)")
        return cls(_year(int(match[1]), text), int(match[2]))

    @classmethod
    def of(cls, day: date) -> Month:
        return cls(day.year, day.month)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def first_day(self) -> date:
        return date(self.year, self.month, 1)

    @property
    def last_day(self) -> date:
        return date(self.year, self.month, calendar.monthrange(self.year, self.month)[1])

    def plus(self, months: int) -> Month:
        index = self.year * 12 + self.month - 1 + months
        return Month(index // 12, index % 12 + 1)

    @property
    def quarter(self) -> str:
        return f"{self.year:04d}-Q{(self.month - 1) // 3 + 1}"

    def working_days(self) -> list[date]:
        return [d for d in (date(self.year, self.month, n) for n in range(1, self.last_day.day + 1)) if is_working_day(d)]


def _year(year: int, text: str) -> int:
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise ValueError(f"{text!r}: the year must be from {MIN_YEAR} to {MAX_YEAR}")
    return year


def months_between(first: Month, last: Month) -> list[Month]:
    """Every month from ``first`` to ``last`` inclusive (empty if ``last`` is earlier)."""
    months, current = [], first
    while current <= last:
        months.append(current)
        current = current.plus(1)
    return months


def period_months(period: str) -> list[Month]:
    """A report period: a month ``2026-11`` or a calendar quarter ``2026-Q4``."""
    match = _QUARTER.match(period)
    if match:
        first = Month(_year(int(match[1]), period), (int(match[2]) - 1) * 3 + 1)
        return [first, first.plus(1), first.plus(2)]
    return [Month.parse(period)]


def draw_day(month: Month, working_days_before: int = DRAW_WORKING_DAYS_BEFORE) -> date:
    """The day a month's sample is drawn and its allocation notices go out."""
    return add_working_days(month.first_day, -working_days_before)


def audit_due_on(month: Month) -> date:
    """The audit is to be completed by the end of its month (Kent 4.2)."""
    return month.last_day


def digest_day(month: Month, day_of_month: int = DIGEST_DAY_OF_MONTH) -> date:
    """Mid-month: the first working day on or after ``day_of_month`` (as notify sends it)."""
    return next_working_day(date(month.year, month.month, day_of_month))


def reminder_dates(issued_on: date, *, until: date, interval: int = REMINDER_WORKING_DAYS) -> list[date]:
    """Reminders to whoever has not submitted: every ``interval`` working days after the day the
    work was issued (the allocation for the auditor, the stage 1 submission for the peer
    reviewer), up to and including ``until``. They go on after ``until`` while it stays undone."""
    if interval < 1:
        raise ValueError("the reminder interval is at least one working day")
    dates, current = [], add_working_days(issued_on, interval)
    while current <= until:
        dates.append(current)
        current = add_working_days(current, interval)
    return dates


@dataclass(frozen=True)
class Timetable:
    month: Month
    draw_on: date
    month_starts: date
    digest_on: date
    due_on: date
    #: The auditor's reminders within the month, if the allocation goes out on the draw day.
    auditor_reminders: list[date]


def timetable(
    month: Month,
    *,
    working_days_before: int = DRAW_WORKING_DAYS_BEFORE,
    reminder_interval: int = REMINDER_WORKING_DAYS,
    digest_day_of_month: int = DIGEST_DAY_OF_MONTH,
    issued_on: date | None = None,
) -> Timetable:
    draw_on = draw_day(month, working_days_before)
    due_on = audit_due_on(month)
    return Timetable(
        month=month,
        draw_on=draw_on,
        month_starts=month.first_day,
        digest_on=digest_day(month, digest_day_of_month),
        due_on=due_on,
        auditor_reminders=reminder_dates(issued_on or draw_on, until=due_on, interval=reminder_interval),
    )


def draw_due(today: date, month: Month, working_days_before: int = DRAW_WORKING_DAYS_BEFORE) -> bool:
    """Whether ``month``'s draw is due on ``today`` (from its draw day until the month is over)."""
    return draw_day(month, working_days_before) <= today <= month.last_day
