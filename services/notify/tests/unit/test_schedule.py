"""Reminder and digest dates on the working-days calendar of England and Wales."""

from __future__ import annotations

from datetime import date

from notify.domain.schedule import digest_day, first_reminder_on, reminder_due


def test_the_first_reminder_skips_christmas_boxing_day_substitute_and_new_year() -> None:
    # Thursday 17 December 2026; 25 Dec (Fri), 28 Dec (Mon, Boxing Day substitute), 1 Jan (Fri) are bank holidays.
    assert first_reminder_on(date(2026, 12, 17), 10) == date(2027, 1, 5)


def test_nothing_is_due_before_the_tenth_working_day() -> None:
    assert reminder_due(date(2026, 12, 17), date(2027, 1, 4), 10) is None


def test_the_reminder_due_on_its_day_names_the_next_one() -> None:
    due = reminder_due(date(2026, 12, 17), date(2027, 1, 5), 10)
    assert due is not None
    assert (due.on, due.number, due.next_on) == (date(2027, 1, 5), 1, date(2027, 1, 19))


def test_after_missed_days_only_the_latest_reminder_is_due() -> None:
    due = reminder_due(date(2026, 12, 17), date(2027, 2, 10), 10)
    assert due is not None
    # 5 Jan, 19 Jan, 2 Feb have passed: the third is the one to send; the fourth is 16 Feb.
    assert (due.on, due.number, due.next_on) == (date(2027, 2, 2), 3, date(2027, 2, 16))


def test_a_bank_holiday_monday_moves_a_reminder_on() -> None:
    # Created Thursday 21 May 2026; Monday 25 May is the spring bank holiday.
    assert first_reminder_on(date(2026, 5, 21), 10) == date(2026, 6, 5)


def test_the_digest_goes_on_the_first_working_day_from_the_15th() -> None:
    assert digest_day(2026, 3, 15) == date(2026, 3, 16)  # the 15th is a Sunday
    assert digest_day(2026, 4, 15) == date(2026, 4, 15)  # a Wednesday
    assert digest_day(2026, 8, 15) == date(2026, 8, 17)  # a Saturday
