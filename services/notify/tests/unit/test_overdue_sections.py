"""A delegated resolution section not finalised by its due date is chased like other overdue work."""

from __future__ import annotations

from datetime import UTC, date, datetime

from notify.domain.kinds import TaskKind, is_chased, is_chased_when_overdue
from notify.domain.schedule import chase_due, first_chase_on, overdue_chase_on, overdue_reminder_due
from notify.domain.tasks import Link, Origin, Task


def test_a_delegated_section_is_chased_from_the_working_day_after_it_was_due() -> None:
    """Seed 001: "If a delegated section needs to be retracted (eg. delegated section not completed in
    time)" — before that, the delegate is chased once the section is overdue."""
    assert is_chased(TaskKind.SECTION_DELEGATED) and is_chased_when_overdue(TaskKind.SECTION_DELEGATED)
    assert not is_chased_when_overdue(TaskKind.AUDIT)
    assert overdue_chase_on(date(2026, 3, 5)) == date(2026, 3, 6)  # Thursday -> Friday
    assert overdue_chase_on(date(2026, 3, 6)) == date(2026, 3, 9)  # Friday -> Monday
    assert overdue_chase_on(date(2026, 12, 24)) == date(2026, 12, 29)  # Christmas and Boxing Day (moved) are not working days
    assert first_chase_on(True, date(2026, 3, 2), date(2026, 3, 5), 10) == date(2026, 3, 6)
    assert first_chase_on(True, date(2026, 3, 2), None, 10) is None  # no due date: never overdue
    assert first_chase_on(False, date(2026, 3, 2), None, 10) == date(2026, 3, 16)  # other chased work: 10 working days on


def test_reminders_once_overdue_then_every_interval_and_only_the_latest_missed_one() -> None:
    """Seed 001: "delegated section not completed in time": a reminder each interval until it is done."""
    due = date(2026, 3, 5)
    assert overdue_reminder_due(due, date(2026, 3, 5), 10) is None
    first = overdue_reminder_due(due, date(2026, 3, 6), 10)
    assert first is not None and (first.on, first.number, first.next_on) == (date(2026, 3, 6), 1, date(2026, 3, 20))
    assert overdue_reminder_due(due, date(2026, 3, 19), 10) == first
    later = overdue_reminder_due(due, date(2026, 3, 25), 10)
    assert later is not None and (later.on, later.number) == (date(2026, 3, 20), 2)
    assert chase_due(True, date(2026, 3, 2), None, date(2027, 1, 1), 10) is None
    assert chase_due(True, date(2026, 3, 2), due, date(2026, 3, 6), 10) == first


def test_a_section_task_opens_with_its_first_chase_on_the_day_after_it_is_overdue() -> None:
    """Seed 001: "The delegate section will appear as a task in the selected users work tray" — and is chased when overdue."""
    task = Task.open(
        event_id="e-1",
        event_type="resolution.section.delegated.v1",
        assignee_id="TM-1",
        kind=TaskKind.SECTION_DELEGATED,
        subject="Resolution res-1: Stage 1",
        action="Write and finalise",
        due_on=date(2026, 3, 5),
        assigned_by="IRO-1",
        origin=Origin.PERSON,
        link=Link("resolution", "/forms/res-1/sections/stage-1"),
        at=datetime(2026, 3, 2, 9, tzinfo=UTC),
        first_reminder_on=first_chase_on(True, date(2026, 3, 2), date(2026, 3, 5), 10),
    )
    assert task.next_reminder_on == date(2026, 3, 6)
