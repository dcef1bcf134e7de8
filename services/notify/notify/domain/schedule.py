"""When reminders and digests fall due, on the working-days calendar of England and Wales.

A chased task is reminded every ``interval`` working days after the day it was created, until it
is done. If the scheduler did not run for a while (a weekend, an outage), only the latest missed
reminder is sent: a person gets one reminder, not a burst of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from shared.calendar import add_working_days, next_working_day


@dataclass(frozen=True)
class ReminderDue:
    #: The reminder date this send stands for (the key that makes it go once).
    on: date
    #: Which reminder it is (1 for the first).
    number: int
    #: When the following one falls due.
    next_on: date


def first_reminder_on(created_on: date, interval: int) -> date:
    return add_working_days(created_on, interval)


def reminder_due(created_on: date, today: date, interval: int) -> ReminderDue | None:
    """The latest reminder due on or before ``today`` for a task created on ``created_on``."""
    number = 0
    on = created_on
    nxt = add_working_days(created_on, interval)
    while nxt <= today:
        number += 1
        on = nxt
        nxt = add_working_days(on, interval)
    if number == 0:
        return None
    return ReminderDue(on=on, number=number, next_on=nxt)


def digest_day(year: int, month: int, day_of_month: int) -> date:
    """The mid-month digest day: the first working day on or after ``day_of_month``."""
    return next_working_day(date(year, month, day_of_month))
