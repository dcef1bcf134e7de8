"""Audit shows auditors when they will be chased; notify does the chasing. The two must agree."""

from __future__ import annotations

from datetime import date

from audit.cycles.domain.timetable import reminder_dates
from notify.domain.schedule import reminder_due


def test_the_reminder_dates_audit_shows_are_the_ones_notify_sends() -> None:
    issued = date(2026, 11, 24)  # across Christmas and New Year bank holidays
    shown = reminder_dates(issued, until=date(2027, 3, 31))
    assert shown, "no reminder dates shown"
    for on in shown:
        due = reminder_due(issued, on, 10)
        assert due is not None and due.on == on
