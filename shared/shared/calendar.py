"""Working days in England and Wales: weekdays that are not bank holidays.

Timescales in the procedures ("7 working days", "reminders every 10 working days") are counted
on this calendar. Bank holidays come from the ``holidays`` package (England's list, which Wales
shares), so a new year needs no code change.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache

import holidays


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
