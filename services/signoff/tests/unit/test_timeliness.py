"""Timeliness: the latest version's counter-signature date against the timescale, in working days."""

from __future__ import annotations

from datetime import UTC, date, datetime

from shared.calendar import local_date
from signoff.domain.catalogue import INITIAL_ASSESSMENT
from signoff.domain.timeliness import Status, assess, totals

from services.signoff.tests.unit.builders import DS, SW, start


def at(day: str, hour: int = 10) -> datetime:
    return datetime.fromisoformat(f"{day}T{hour:02d}:00:00+00:00")


def test_unlocked_twice_timeliness_is_taken_from_version_3s_counter_signature() -> None:
    # Initial Assessment commenced Monday 2 March 2026: 7 working days -> due Wednesday 11 March.
    x = start(INITIAL_ASSESSMENT, answers=None)
    x.first_sign(SW, at("2026-03-03"))
    x.counter_sign(DS, at("2026-03-04"))
    assert x.timeliness(date(2026, 3, 4)).status is Status.ON_TIME
    x.unlock(SW, at("2026-03-05"), "wrong outcome selected")
    assert x.timeliness(date(2026, 3, 5)).status is Status.OPEN  # unlocked: not complete until signed again
    x.first_sign(SW, at("2026-03-05"))
    x.counter_sign(DS, at("2026-03-06"))
    x.unlock(SW, at("2026-03-12"), "sibling details corrected")
    x.first_sign(SW, at("2026-03-12"))
    x.counter_sign(DS, at("2026-03-13"))
    assert x.current.number == 3
    result = x.timeliness(date(2026, 3, 20))
    assert result.completed_on == date(2026, 3, 13)
    assert result.start_date == date(2026, 3, 2) and result.due_on == date(2026, 3, 11)
    assert result.working_days_taken == 9
    assert result.status is Status.LATE and result.on_time is False


def test_the_manager_signing_after_the_completed_date_makes_the_work_late() -> None:
    # the seed: completed within 7 days but counter-signed later is out of timescale
    x = start(INITIAL_ASSESSMENT)
    x.first_sign(SW, at("2026-03-09"))
    x.counter_sign(DS, at("2026-03-12"))
    assert x.timeliness(date(2026, 3, 12)).status is Status.LATE


def test_the_seventh_working_day_is_on_time_and_the_eighth_late_across_easter() -> None:
    start_day = date(2026, 4, 2)  # Thursday before Good Friday (3 April) and Easter Monday (6 April)
    assert assess(start_day, date(2026, 4, 15), 7, date(2026, 4, 20)).status is Status.ON_TIME
    late = assess(start_day, date(2026, 4, 16), 7, date(2026, 4, 20))
    assert late.status is Status.LATE and late.working_days_taken == 8 and late.due_on == date(2026, 4, 15)


def test_unsigned_work_is_open_until_its_due_date_then_overdue() -> None:
    assert assess(date(2026, 3, 2), None, 7, date(2026, 3, 11)).status is Status.OPEN
    overdue = assess(date(2026, 3, 2), None, 7, date(2026, 3, 12))
    assert overdue.status is Status.OVERDUE and overdue.on_time is None and overdue.working_days_taken is None


def test_a_type_without_timescale_is_reported_not_judged() -> None:
    result = assess(date(2026, 3, 2), date(2026, 3, 30), None, date(2026, 3, 30))
    assert result.status is Status.NO_TIMESCALE and result.working_days_taken == 20 and result.on_time is None


def test_the_counter_signature_date_is_the_local_date() -> None:
    # 23:30 UTC on 14 April is 00:30 on 15 April in London (BST)
    assert local_date(datetime(2026, 4, 14, 23, 30, tzinfo=UTC)) == date(2026, 4, 15)
    assert local_date(datetime(2026, 1, 14, 23, 30, tzinfo=UTC)) == date(2026, 1, 14)


def test_totals_count_each_status_and_the_share_on_time() -> None:
    today = date(2026, 3, 30)
    t = totals(
        [
            assess(date(2026, 3, 2), date(2026, 3, 4), 7, today),
            assess(date(2026, 3, 2), date(2026, 3, 5), 7, today),
            assess(date(2026, 3, 2), date(2026, 3, 20), 7, today),
            assess(date(2026, 3, 2), None, 7, today),
            assess(date(2026, 3, 27), None, 7, today),
        ]
    )
    assert t.total == 5 and t.completed == 3
    assert t.counts == {"on_time": 2, "late": 1, "open": 1, "overdue": 1, "no_timescale": 0}
    assert t.percent_on_time == 66.7
    assert totals([]).percent_on_time is None
