"""Dispensations: leave or secondment over two-thirds of a month's working days dispenses from it."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from audit.common.errors import InvalidEntries, WrongStage
from audit.cycles.domain.dispensation import Dispensation, DispensationReason, months_covered
from audit.cycles.domain.timetable import Month

AT = datetime(2026, 10, 20, 9, tzinfo=UTC)


def record(reason: DispensationReason = DispensationReason.SICK_LEAVE, starts: date = date(2026, 11, 2), ends: date | None = date(2026, 11, 30)) -> Dispensation:
    return Dispensation.record(dispensation_id="d1", person_id="TM1", reason=reason, starts_on=starts, ends_on=ends, note="", by="QA", at=AT)


def test_leave_over_two_thirds_of_the_working_days_dispenses_from_that_month() -> None:
    # November 2026 has 21 working days; 2-30 November is 20 of them.
    d = record()
    assert d.months == ["2026-11"]
    assert d.covers(Month(2026, 11)) and not d.covers(Month(2026, 12))


def test_exactly_two_thirds_is_not_over_two_thirds() -> None:
    # 14 of November's 21 working days (2-19 November) is two-thirds, not more.
    assert months_covered(date(2026, 11, 2), date(2026, 11, 19)) == []
    with pytest.raises(InvalidEntries):
        record(ends=date(2026, 11, 19))
    assert months_covered(date(2026, 11, 2), date(2026, 11, 20)) == [Month(2026, 11)]


def test_a_long_absence_covers_each_month_it_takes_and_not_the_edges() -> None:
    # From 20 October (9 of October's 22 working days) to 8 January (5 of January's 20).
    assert [str(m) for m in months_covered(date(2026, 10, 20), date(2027, 1, 8))] == ["2026-11", "2026-12"]


def test_leave_needs_an_end_but_a_secondment_may_be_open_ended() -> None:
    with pytest.raises(InvalidEntries):
        record(ends=None)
    seconded = record(DispensationReason.SECONDMENT, starts=date(2026, 11, 1), ends=None)
    assert seconded.open_ended
    assert seconded.covers(Month(2026, 11)) and seconded.covers(Month(2031, 5))
    assert not seconded.covers(Month(2026, 10))


def test_an_end_before_the_start_is_refused() -> None:
    with pytest.raises(InvalidEntries) as refused:
        record(starts=date(2026, 11, 20), ends=date(2026, 11, 2))
    assert refused.value.errors[0]["field"] == "ends_on"


def test_revise_and_withdraw() -> None:
    d = record()
    d.revise(reason=DispensationReason.ANNUAL_LEAVE, starts_on=date(2026, 12, 1), ends_on=date(2026, 12, 31), note="moved", by="QA2", at=AT)
    assert d.months == ["2026-12"] and d.updated_by == "QA2"
    d.withdraw(reason="back at work", by="QA", at=AT)
    assert not d.covers(Month(2026, 12))
    with pytest.raises(WrongStage):
        d.withdraw(reason="again", by="QA", at=AT)
    with pytest.raises(WrongStage):
        d.revise(reason=DispensationReason.SICK_LEAVE, starts_on=date(2026, 12, 1), ends_on=date(2026, 12, 31), note="", by="QA", at=AT)
