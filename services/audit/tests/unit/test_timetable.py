"""The cycle's timetable on working days: the draw day, due date, digest day and reminders."""

from __future__ import annotations

from datetime import date

import pytest
from audit.cycles.domain.timetable import (
    Month,
    audit_due_on,
    digest_day,
    draw_day,
    draw_due,
    period_months,
    reminder_dates,
    timetable,
)


def test_months_parse_and_move() -> None:
    assert str(Month.parse("2026-12").plus(1)) == "2027-01"
    assert str(Month.parse("2026-01").plus(-12)) == "2025-01"
    assert Month.parse("2024-02").last_day == date(2024, 2, 29)
    with pytest.raises(ValueError):
        Month.parse("2026-13")
    assert [str(m) for m in period_months("2026-Q4")] == ["2026-10", "2026-11", "2026-12"]


def test_the_draw_is_five_working_days_before_the_month() -> None:
    # December 2026 begins on a Tuesday: Mon 30, Fri 27, Thu 26, Wed 25, Tue 24 November.
    assert draw_day(Month(2026, 12)) == date(2026, 11, 24)


def test_the_draw_day_skips_bank_holidays() -> None:
    # June 2026 begins on Monday 1st; Monday 25 May 2026 is the spring bank holiday:
    # Fri 29, Thu 28, Wed 27, Tue 26 May, then (not Mon 25) Fri 22 May.
    assert draw_day(Month(2026, 6)) == date(2026, 5, 22)


def test_draw_due_from_the_draw_day_until_the_month_is_over() -> None:
    december = Month(2026, 12)
    assert not draw_due(date(2026, 11, 23), december)
    assert draw_due(date(2026, 11, 24), december)
    assert draw_due(date(2026, 12, 31), december)
    assert not draw_due(date(2027, 1, 1), december)


def test_reminders_every_ten_working_days_skip_a_bank_holiday() -> None:
    # Issued Friday 17 April 2026: ten working days later is Friday 1 May; the next ten skip the
    # early May bank holiday (Monday 4 May) and fall on Monday 18 May (not Friday 15 May).
    assert reminder_dates(date(2026, 4, 17), until=date(2026, 5, 31)) == [date(2026, 5, 1), date(2026, 5, 18)]


def test_reminders_around_christmas() -> None:
    # Issued Monday 23 November 2026: 7 Dec, then 21 Dec; Christmas Day, Boxing Day (observed on
    # Monday 28 December) and New Year's Day push the third to Thursday 7 January 2027 (a plain
    # two weeks would have been Monday 4 January).
    assert reminder_dates(date(2026, 11, 23), until=date(2027, 1, 31)) == [
        date(2026, 12, 7), date(2026, 12, 21), date(2027, 1, 7), date(2027, 1, 21),
    ]


def test_due_at_the_end_of_the_month_and_the_digest_mid_month_on_a_working_day() -> None:
    assert audit_due_on(Month(2026, 11)) == date(2026, 11, 30)
    # 15 November 2026 is a Sunday: the digest goes on Monday 16th.
    assert digest_day(Month(2026, 11)) == date(2026, 11, 16)
    plan = timetable(Month(2026, 12))
    assert plan.draw_on == date(2026, 11, 24)
    assert plan.due_on == date(2026, 12, 31)
    assert plan.auditor_reminders == [date(2026, 12, 8), date(2026, 12, 22)]


def test_a_reminder_interval_below_one_is_refused() -> None:
    with pytest.raises(ValueError):
        reminder_dates(date(2026, 1, 5), until=date(2026, 2, 1), interval=0)
