"""Working days in England and Wales: weekdays that are not bank holidays.

Every expected date below was worked out by hand from a calendar; the bank holidays used are
2026: Fri 3 Apr, Mon 6 Apr, Mon 4 May, Mon 25 May, Mon 31 Aug, Fri 25 Dec, Mon 28 Dec (Boxing
Day, Sat 26th, substituted); 2027: Fri 1 Jan, Fri 26 Mar, Mon 29 Mar, Mon 3 May.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from shared.calendar import (
    add_months,
    add_working_days,
    is_bank_holiday,
    is_working_day,
    last_working_day_before,
    local_date,
    next_working_day,
    start_of,
    working_days_between,
)

# --- Bank holidays -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "holiday",
    [
        date(2026, 1, 1),  # New Year's Day, Thursday
        date(2026, 4, 3),  # Good Friday
        date(2026, 4, 6),  # Easter Monday
        date(2026, 5, 4),  # Early May bank holiday
        date(2026, 5, 25),  # Spring bank holiday
        date(2026, 8, 31),  # Summer bank holiday (England and Wales, not Scotland's 3 Aug)
        date(2026, 12, 25),  # Christmas Day, Friday
        date(2026, 12, 28),  # Boxing Day substitute, Monday
        date(2027, 1, 1),  # New Year's Day, Friday
        date(2027, 3, 26),  # Good Friday
        date(2027, 3, 29),  # Easter Monday
        date(2027, 12, 27),  # Christmas Day substitute (25th is a Saturday)
        date(2027, 12, 28),  # Boxing Day substitute (26th is a Sunday)
    ],
)
def test_england_and_wales_bank_holidays_are_not_working_days(holiday):
    assert holiday.weekday() < 5, "the holiday itself falls on a weekday"
    assert is_bank_holiday(holiday)
    assert not is_working_day(holiday)


@pytest.mark.parametrize(
    "ordinary_day",
    [
        date(2026, 8, 3),  # Scotland's summer holiday, not England's
        date(2026, 3, 17),  # St Patrick's Day: Northern Ireland only
        date(2026, 11, 30),  # St Andrew's Day: Scotland only
        date(2026, 12, 24),  # Christmas Eve is a working day
        date(2026, 12, 31),  # so is New Year's Eve
    ],
)
def test_holidays_of_other_nations_and_eves_are_working_days(ordinary_day):
    assert not is_bank_holiday(ordinary_day)
    assert is_working_day(ordinary_day)


# --- Weekends ----------------------------------------------------------------------------


def test_weekends_are_not_working_days():
    assert not is_working_day(date(2026, 6, 6))  # Saturday
    assert not is_working_day(date(2026, 6, 7))  # Sunday
    assert is_working_day(date(2026, 6, 5))  # Friday
    assert is_working_day(date(2026, 6, 8))  # Monday


def test_the_working_day_after_a_friday_is_the_monday():
    assert add_working_days(date(2026, 6, 5), 1) == date(2026, 6, 8)


def test_counting_from_a_weekend_starts_on_the_monday():
    assert add_working_days(date(2026, 6, 6), 1) == date(2026, 6, 8)
    assert add_working_days(date(2026, 6, 7), 5) == date(2026, 6, 12)


def test_five_working_days_is_one_calendar_week_when_there_is_no_holiday():
    assert add_working_days(date(2026, 6, 10), 5) == date(2026, 6, 17)


# --- Christmas 2026 ----------------------------------------------------------------------


def test_christmas_2026_boxing_day_on_saturday_is_substituted_by_monday_28th():
    assert date(2026, 12, 25).strftime("%A") == "Friday"
    assert date(2026, 12, 26).strftime("%A") == "Saturday"
    assert not is_working_day(date(2026, 12, 28))
    assert is_working_day(date(2026, 12, 29))


def test_one_working_day_after_christmas_eve_2026_is_tuesday_29th():
    # Fri 25 holiday, Sat 26, Sun 27, Mon 28 substitute holiday.
    assert add_working_days(date(2026, 12, 24), 1) == date(2026, 12, 29)


def test_working_days_between_21_and_31_december_2026_is_six():
    # 22, 23, 24, 29, 30, 31 December.
    assert working_days_between(date(2026, 12, 21), date(2026, 12, 31)) == 6


# --- Easter 2027 -------------------------------------------------------------------------


def test_easter_2027_good_friday_and_easter_monday_are_not_working_days():
    assert not is_working_day(date(2027, 3, 26))
    assert not is_working_day(date(2027, 3, 29))
    assert is_working_day(date(2027, 3, 25))  # Maundy Thursday
    assert is_working_day(date(2027, 3, 30))


def test_one_working_day_after_maundy_thursday_2027_is_the_tuesday():
    assert add_working_days(date(2027, 3, 25), 1) == date(2027, 3, 30)


def test_easter_2027_fortnight_has_only_seven_working_days_after_its_monday():
    # Mon 22 Mar .. Fri 2 Apr: 23, 24, 25, 30, 31 Mar, 1, 2 Apr = 7 after the start.
    assert working_days_between(date(2027, 3, 22), date(2027, 4, 2)) == 7
    # Counted forwards, the same 7 working days land on the same Friday.
    assert add_working_days(date(2027, 3, 22), 7) == date(2027, 4, 2)


# --- Early May 2026: an Initial Assessment of 7 working days -----------------------------


def test_initial_assessment_started_on_the_early_may_bank_holiday_is_due_13_may_2026():
    # Started Mon 4 May (itself a bank holiday; the start day is never counted):
    # Tue 5 (1), Wed 6 (2), Thu 7 (3), Fri 8 (4), Mon 11 (5), Tue 12 (6), Wed 13 (7).
    started = date(2026, 5, 4)
    assert is_bank_holiday(started)
    assert add_working_days(started, 7) == date(2026, 5, 13)


def test_initial_assessment_spanning_the_early_may_bank_holiday_takes_a_day_longer():
    # Started Thu 30 Apr: Fri 1 May (1), [Mon 4 holiday], Tue 5 (2) ... Tue 12 (7).
    assert add_working_days(date(2026, 4, 30), 7) == date(2026, 5, 12)
    # The same start a week later, with no holiday in between, is due the following Mon.
    assert add_working_days(date(2026, 5, 7), 7) == date(2026, 5, 18)


# --- Zero and negative counts ------------------------------------------------------------


def test_zero_working_days_returns_the_start_unchanged_even_on_a_holiday():
    assert add_working_days(date(2026, 12, 25), 0) == date(2026, 12, 25)
    assert add_working_days(date(2026, 6, 6), 0) == date(2026, 6, 6)


def test_negative_counts_go_backwards_skipping_holidays_and_weekends():
    # Before Tue 29 Dec 2026: Mon 28 holiday, Sun, Sat, Fri 25 holiday, Thu 24.
    assert add_working_days(date(2026, 12, 29), -1) == date(2026, 12, 24)
    # Before Mon 4 Jan 2027: Sun, Sat, Fri 1 Jan holiday, Thu 31 Dec (1), Wed 30 Dec (2).
    assert add_working_days(date(2027, 1, 4), -2) == date(2026, 12, 30)


def test_working_days_between_is_negative_when_the_end_is_earlier():
    assert working_days_between(date(2026, 12, 31), date(2026, 12, 21)) == -6


def test_working_days_between_a_day_and_itself_is_zero():
    assert working_days_between(date(2026, 12, 25), date(2026, 12, 25)) == 0


def test_monday_to_wednesday_is_two_working_days():
    assert working_days_between(date(2026, 6, 8), date(2026, 6, 10)) == 2


@pytest.mark.parametrize("days", [0, 1, 7, 10, 25])
@pytest.mark.parametrize("start", [date(2026, 12, 14), date(2026, 12, 24), date(2027, 3, 26), date(2026, 5, 4)])
def test_working_days_between_undoes_add_working_days_forwards_from_any_day(start, days):
    assert working_days_between(start, add_working_days(start, days)) == days


@pytest.mark.parametrize("days", [-15, -7, -1])
@pytest.mark.parametrize("start", [date(2026, 12, 14), date(2026, 12, 24), date(2027, 3, 30), date(2026, 5, 5)])
def test_working_days_between_undoes_add_working_days_backwards_from_a_working_day(start, days):
    # Backwards from a holiday the two disagree by one by design: working_days_between is
    # antisymmetric and counts the later day, which a non-working start does not contribute.
    assert is_working_day(start)
    assert working_days_between(start, add_working_days(start, days)) == days


# --- next_working_day and last_working_day_before ----------------------------------------


@pytest.mark.parametrize(
    "neighbour, day, expected",
    [
        pytest.param(next_working_day, date(2026, 12, 24), date(2026, 12, 24), id="next: a working day is that day"),
        pytest.param(next_working_day, date(2026, 12, 25), date(2026, 12, 29), id="next: christmas day skips the weekend and the substitute day"),
        pytest.param(next_working_day, date(2026, 12, 26), date(2026, 12, 29), id="next: boxing day skips the weekend and the substitute day"),
        pytest.param(next_working_day, date(2026, 6, 6), date(2026, 6, 8), id="next: a saturday is the monday"),
        pytest.param(last_working_day_before, date(2027, 1, 1), date(2026, 12, 31), id="last before: new year 2027 is 31 december 2026"),
        pytest.param(last_working_day_before, date(2026, 6, 1), date(2026, 5, 29), id="last before: a monday is the friday"),
        # Tue 26 May 2026: Mon 25 May is the spring bank holiday, so the answer is Fri 22 May.
        pytest.param(
            last_working_day_before, date(2026, 5, 26), date(2026, 5, 22),
            id="last before: the day after spring bank holiday is the friday before it",
        ),
        pytest.param(last_working_day_before, date(2026, 6, 10), date(2026, 6, 9), id="last before: strictly before even a working day"),
    ],
)
def test_next_working_day_and_last_working_day_before(neighbour, day, expected):
    assert neighbour(day) == expected


# --- Reminders every 10 working days across Christmas ------------------------------------


def test_reminders_every_ten_working_days_from_14_december_2026():
    # From Mon 14 Dec: 15, 16, 17, 18, 21, 22, 23, 24, 29, 30 Dec -> Wed 30 Dec.
    # From 30 Dec: 31 Dec, 4, 5, 6, 7, 8, 11, 12, 13, 14 Jan -> Thu 14 Jan 2027.
    # From 14 Jan: 15, 18, 19, 20, 21, 22, 25, 26, 27, 28 Jan -> Thu 28 Jan 2027.
    reminders = []
    due = date(2026, 12, 14)
    for _ in range(3):
        due = add_working_days(due, 10)
        reminders.append(due)

    assert reminders == [date(2026, 12, 30), date(2027, 1, 14), date(2027, 1, 28)]


# --- The day in England (local_date) ---------------------------------------------------------
# British Summer Time (UTC+1) began at 01:00 UTC on Sun 29 March 2026 and ends at 01:00 UTC on
# Sun 25 October 2026; outside it England keeps UTC.


@pytest.mark.parametrize(
    "at, expected",
    [
        pytest.param(datetime(2026, 3, 28, 23, 30, tzinfo=UTC), date(2026, 3, 28), id="the evening before BST begins: GMT, the same day"),
        pytest.param(datetime(2026, 3, 29, 0, 30, tzinfo=UTC), date(2026, 3, 29), id="00:30Z on 29 March: 00:30 GMT"),
        pytest.param(datetime(2026, 3, 29, 1, 30, tzinfo=UTC), date(2026, 3, 29), id="01:30Z on 29 March: 02:30 BST"),
        pytest.param(datetime(2026, 3, 29, 22, 59, tzinfo=UTC), date(2026, 3, 29), id="22:59Z on 29 March: 23:59 BST"),
        pytest.param(datetime(2026, 3, 29, 23, 0, tzinfo=UTC), date(2026, 3, 30), id="23:00Z on the first BST day: midnight, 30 March"),
        pytest.param(datetime(2026, 8, 31, 22, 59, tzinfo=UTC), date(2026, 8, 31), id="22:59Z on a summer day: 23:59 BST, that day"),
        pytest.param(datetime(2026, 8, 31, 23, 0, tzinfo=UTC), date(2026, 9, 1), id="23:00Z on a summer day: midnight, the next day"),
        pytest.param(datetime(2026, 8, 31, 23, 30, tzinfo=UTC), date(2026, 9, 1), id="23:30Z on 31 August: already 1 September"),
        pytest.param(datetime(2026, 6, 30, 23, 30, tzinfo=UTC), date(2026, 7, 1), id="23:30Z on 30 June: already 1 July"),
        pytest.param(datetime(2026, 12, 31, 23, 30, tzinfo=UTC), date(2026, 12, 31), id="23:30Z on 31 December: GMT, still the old year"),
        pytest.param(datetime(2026, 10, 24, 23, 30, tzinfo=UTC), date(2026, 10, 25), id="23:30Z on 24 October: 00:30 BST on the 25th"),
        pytest.param(datetime(2026, 10, 25, 0, 30, tzinfo=UTC), date(2026, 10, 25), id="00:30Z on 25 October: 01:30 BST"),
        pytest.param(datetime(2026, 10, 25, 1, 30, tzinfo=UTC), date(2026, 10, 25), id="01:30Z on 25 October: 01:30 GMT"),
        pytest.param(datetime(2026, 10, 25, 23, 30, tzinfo=UTC), date(2026, 10, 25), id="23:30Z on 25 October: GMT again, the same day"),
    ],
)
def test_local_date_is_the_day_in_england_across_the_clock_changes(at, expected):
    assert local_date(at) == expected


def test_local_date_reads_any_offset_as_the_same_moment():
    # 01:30 on 1 September in Paris (UTC+2) is 23:30Z on 31 August: 00:30 BST on 1 September.
    paris = datetime(2026, 9, 1, 1, 30, tzinfo=timezone(timedelta(hours=2)))
    assert local_date(paris) == date(2026, 9, 1)
    # 20:00 on 31 August in New York (UTC-4) is 01:00 BST on 1 September.
    new_york = datetime(2026, 8, 31, 20, 0, tzinfo=timezone(timedelta(hours=-4)))
    assert local_date(new_york) == date(2026, 9, 1)


@pytest.mark.parametrize(
    "day, midnight_utc",
    [
        pytest.param(date(2026, 3, 29), datetime(2026, 3, 29, 0, 0, tzinfo=UTC), id="the day BST begins starts at midnight GMT"),
        pytest.param(date(2026, 3, 30), datetime(2026, 3, 29, 23, 0, tzinfo=UTC), id="the first whole BST day starts at 23:00Z the day before"),
        pytest.param(date(2026, 8, 1), datetime(2026, 7, 31, 23, 0, tzinfo=UTC), id="a summer day"),
        pytest.param(date(2026, 10, 25), datetime(2026, 10, 24, 23, 0, tzinfo=UTC), id="the day BST ends starts at midnight BST"),
        pytest.param(date(2026, 10, 26), datetime(2026, 10, 26, 0, 0, tzinfo=UTC), id="the day after: midnight GMT"),
        pytest.param(date(2027, 1, 1), datetime(2027, 1, 1, 0, 0, tzinfo=UTC), id="a winter day"),
    ],
)
def test_a_day_starts_at_midnight_in_england(day, midnight_utc):
    start = start_of(day)
    assert start == midnight_utc
    assert local_date(start) == day and local_date(start - timedelta(microseconds=1)) == day - timedelta(days=1)


# --- Calendar months (add_months) ------------------------------------------------------------


@pytest.mark.parametrize(
    "day, months, expected",
    [
        pytest.param(date(2026, 1, 15), 1, date(2026, 2, 15), id="the same day next month"),
        pytest.param(date(2026, 1, 31), 1, date(2026, 2, 28), id="31 January + 1: 28 February"),
        pytest.param(date(2028, 1, 31), 1, date(2028, 2, 29), id="31 January + 1 in a leap year: 29 February"),
        pytest.param(date(2026, 3, 31), 1, date(2026, 4, 30), id="31 March + 1: 30 April"),
        pytest.param(date(2026, 8, 31), 3, date(2026, 11, 30), id="31 August + 3: 30 November"),
        pytest.param(date(2026, 12, 15), 1, date(2027, 1, 15), id="December + 1: January of the next year"),
        pytest.param(date(2026, 11, 30), 3, date(2027, 2, 28), id="30 November + 3: 28 February of the next year"),
        pytest.param(date(2028, 2, 29), 12, date(2029, 2, 28), id="29 February + 12: 28 February"),
        pytest.param(date(2028, 2, 29), 48, date(2032, 2, 29), id="29 February + 48: the next leap day"),
        pytest.param(date(2026, 1, 31), 0, date(2026, 1, 31), id="zero months: the day itself"),
        pytest.param(date(2026, 3, 31), -1, date(2026, 2, 28), id="31 March - 1: 28 February"),
        pytest.param(date(2028, 3, 31), -1, date(2028, 2, 29), id="31 March - 1 in a leap year: 29 February"),
        pytest.param(date(2026, 1, 15), -1, date(2025, 12, 15), id="January - 1: December of the year before"),
        pytest.param(date(2026, 2, 28), -12, date(2025, 2, 28), id="minus twelve: the same day a year before"),
        pytest.param(date(2029, 2, 28), -12, date(2028, 2, 28), id="28 February - 12: 28 February of a leap year, not the 29th"),
        pytest.param(date(2026, 8, 31), -6, date(2026, 2, 28), id="31 August - 6: 28 February"),
        pytest.param(date(2026, 5, 31), -25, date(2024, 4, 30), id="31 May - 25: 30 April two years before"),
    ],
)
def test_add_months_keeps_the_day_or_clamps_to_the_month_end(day, months, expected):
    assert add_months(day, months) == expected


def test_add_months_does_not_bring_back_a_clamped_day():
    # Clamping loses the 31st: there and back is the 28th, not where it started.
    assert add_months(add_months(date(2026, 1, 31), 1), -1) == date(2026, 1, 28)
