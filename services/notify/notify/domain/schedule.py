"""When reminders and digests fall due, on the working-days calendar of England and Wales.

A chased task is reminded every ``interval`` working days after the day it was created, until it
is done. If the scheduler did not run for a while (a weekend, an outage), only the latest missed
reminder is sent: a person gets one reminder, not a burst of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

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


def overdue_chase_on(due_on: date) -> date:
    """The first reminder of a task chased once overdue: the first working day after its due date."""
    return next_working_day(due_on + timedelta(days=1))


def overdue_reminder_due(due_on: date, today: date, interval: int) -> ReminderDue | None:
    """The latest reminder due on or before ``today`` for a task due ``due_on`` and not done: the
    first on ``overdue_chase_on(due_on)``, then every ``interval`` working days."""
    on = overdue_chase_on(due_on)
    if on > today:
        return None
    number = 1
    nxt = add_working_days(on, interval)
    while nxt <= today:
        number += 1
        on = nxt
        nxt = add_working_days(on, interval)
    return ReminderDue(on=on, number=number, next_on=nxt)


def first_chase_on(overdue_only: bool, created_on: date, due_on: date | None, interval: int) -> date | None:
    """When a new chased task is first reminded: ``interval`` working days after it was created,
    or, for a task chased once overdue, the first working day after its due date (never without one)."""
    if overdue_only:
        return None if due_on is None else overdue_chase_on(due_on)
    return first_reminder_on(created_on, interval)


def chase_due(overdue_only: bool, created_on: date, due_on: date | None, today: date, interval: int) -> ReminderDue | None:
    """The reminder due ``today`` for an open chased task, by its kind's rule."""
    if overdue_only:
        return None if due_on is None else overdue_reminder_due(due_on, today, interval)
    return reminder_due(created_on, today, interval)


def digest_day(year: int, month: int, day_of_month: int) -> date:
    """The mid-month digest day: the first working day on or after ``day_of_month``."""
    return next_working_day(date(year, month, day_of_month))
