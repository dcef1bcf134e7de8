"""Working days in England and Wales: weekdays that are not bank holidays.

Timescales in the procedures ("7 working days", "reminders every 10 working days") are counted
on this calendar. Bank holidays come from the ``holidays`` package (England's list, which Wales
shares), so a new year needs no code change.

Also the day in England a moment falls on (``local_date``: working days, "today" and month ends
are days in England, not UTC ones), the moment a day begins there (``start_of``) and calendar
months (``add_months``). Plain Python, importing
nothing of FastAPI or the database, so domain modules use it.
"""

from __future__ import annotations

from calendar import monthrange
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

#: Working days are days in England.
LOCAL = ZoneInfo("Europe/London")


def local_date(at: datetime) -> date:
    """The day in England ``at`` falls on."""
    return at.astimezone(LOCAL).date()


def start_of(day: date) -> datetime:
    """The moment ``day`` begins in England (midnight there), as an aware datetime: the lower
    bound of a range of moments that falls on days in England."""
    return datetime.combine(day, time(), LOCAL)


def add_months(day: date, months: int) -> date:
    """The same day ``months`` calendar months later (earlier, for a negative count), clamped to
    the month's last day when that month is shorter."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, monthrange(year, month)[1]))


@lru_cache(maxsize=64)
def _bank_holidays(year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays("GB", subdiv="ENG", years=year).keys())


def is_bank_holiday(day: date) -> bool:
    return day in _bank_holidays(day.year)


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and not is_bank_holiday(day)


def add_working_days(start: date, days: int) -> date:
    """The date ``days`` working days after ``start`` (before it, for a negative count).

    ``start`` itself is not counted: one working day after a Friday is the Monday (or the
    Tuesday when that Monday is a bank holiday). Zero returns ``start`` unchanged.
    """
    step = 1 if days >= 0 else -1
    remaining = abs(days)
    current = start
    while remaining:
        current += timedelta(days=step)
        if is_working_day(current):
            remaining -= 1
    return current


def working_days_between(start: date, end: date) -> int:
    """Working days after ``start`` up to and including ``end`` (negative if ``end`` is earlier).

    Work started on a Monday and finished on the Wednesday took 2 working days.
    """
    if end < start:
        return -working_days_between(end, start)
    count = 0
    current = start
    while current < end:
        current += timedelta(days=1)
        if is_working_day(current):
            count += 1
    return count


def next_working_day(day: date) -> date:
    """``day`` itself if it is a working day, else the first working day after it."""
    while not is_working_day(day):
        day += timedelta(days=1)
    return day


def last_working_day_before(day: date) -> date:
    """The last working day strictly before ``day``."""
    return add_working_days(day, -1)
