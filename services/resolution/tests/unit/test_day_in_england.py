"""Every date on a form is the day in England, as the people who write it count days: from 23:00
to 24:00 UTC in summer it is already the next day. A stage raised then is raised on that next
day; a date of that day is not in the future; and a form resolved or closed counts its days, and
each ended stage its duration, in days in England. (In winter England's day is the UTC day.)"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from resolution.domain import InvalidInput, NextStep, Stage, StageDates
from resolution.domain import events as ev
from resolution.domain.closing_reasons import ClosingReason

OWNER = "IRO-1"
#: 00:30 on Sunday 2 August 2026 in England (British Summer Time).
AFTER_MIDNIGHT_IN_ENGLAND = datetime(2026, 8, 1, 23, 30, tzinfo=UTC)


def _raised_after_midnight(world):
    world.now = AFTER_MIDNIGHT_IN_ENGLAND - timedelta(minutes=1)  # raising moves the clock on a minute
    return world.raise_form()


def test_a_stage_raised_after_midnight_in_england_is_raised_on_that_day(world) -> None:
    form = _raised_after_midnight(world)

    assert form.raised_at == AFTER_MIDNIGHT_IN_ENGLAND
    assert form.current.dates.raised_on == date(2026, 8, 2)
    assert form.stage_durations() == []


def test_the_day_in_england_is_not_in_the_future_and_the_next_one_is(world) -> None:
    form = _raised_after_midnight(world)
    at = form.raised_at

    form.record_stage_dates(Stage.INFORMAL, StageDates(date(2026, 8, 2), response_received_on=date(2026, 8, 2)), by=OWNER, at=at)
    assert form.current.dates.response_received_on == date(2026, 8, 2)
    with pytest.raises(InvalidInput, match="raised in the future"):
        form.record_stage_dates(Stage.INFORMAL, StageDates(date(2026, 8, 3)), by=OWNER, at=at)
    with pytest.raises(InvalidInput, match="received in the future"):
        form.record_stage_dates(Stage.INFORMAL, StageDates(date(2026, 8, 2), response_received_on=date(2026, 8, 3)), by=OWNER, at=at)


def test_days_to_resolution_are_days_in_england(world) -> None:
    form = _raised_after_midnight(world)  # 2 August in England, 1 August UTC
    form.pull_events()
    resolved_at = datetime(2026, 8, 4, 22, 30, tzinfo=UTC)  # 23:30 on 4 August in England

    form.record_resolution(Stage.INFORMAL, resolved=True, impact="Plan agreed; child told.", by=OWNER, at=resolved_at)

    [resolved] = form.pull_events()
    assert isinstance(resolved, ev.ResolutionResolved) and resolved.days_to_resolution == 2
    assert form.days_to_finish() == 2
    assert [(d["stage"], d["days"]) for d in form.stage_durations()] == [("informal", 2)]


def test_days_to_closing_unresolved_are_days_in_england(world) -> None:
    form = _raised_after_midnight(world)
    form.pull_events()
    reason = ClosingReason("no-agreement", "No agreement", "", True, 1, "ADM", world.now, "ADM", world.now)
    closed_at = datetime(2026, 8, 2, 22, 59, tzinfo=UTC)  # 23:59 on 2 August in England: the day it was raised

    form.record_resolution(Stage.INFORMAL, resolved=False, next_step=NextStep.CLOSE_UNRESOLVED, closing_reason=reason, by=OWNER, at=closed_at)

    [closed] = form.pull_events()
    assert isinstance(closed, ev.ResolutionClosedUnresolved) and closed.days_open == 0
    assert form.days_to_finish() == 0


def test_in_winter_the_day_in_england_is_the_utc_day(world) -> None:
    world.now = datetime(2026, 12, 1, 23, 28, tzinfo=UTC)
    form = world.raise_form()  # at 23:29

    assert form.current.dates.raised_on == date(2026, 12, 1)
