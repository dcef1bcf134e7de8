"""The task aggregate: opening, closing by its assignee or by the event that satisfies it, reminders."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from notify.domain.kinds import TaskKind
from notify.domain.tasks import Link, Origin, Task, TaskClosed, TaskNotFound, TaskStatus, task_id_for

AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _task(kind: TaskKind = TaskKind.AUDIT, **overrides: Any) -> Task:
    args: dict[str, Any] = dict(
        event_id="ev-1", event_type="audit.audit.allocated.v1", assignee_id="P-1", kind=kind, subject="Audit A-1",
        action="Audit the case", due_on=date(2026, 3, 31), assigned_by=None, origin=Origin.SYSTEM,
        link=Link("audit", "/audits/A-1"), at=AT, closes_on="audit:audit/A-1:audit", first_reminder_on=date(2026, 3, 16),
    )
    args.update(overrides)
    return Task.open(**args)


def test_a_new_task_is_open_at_version_1_with_its_creation_in_the_history() -> None:
    task = _task()
    assert task.status is TaskStatus.OPEN
    assert task.version == 1
    assert [(h.version, h.status, h.reason, h.event_id) for h in task.history] == [(1, TaskStatus.OPEN, "created", "ev-1")]
    assert task.next_reminder_on == date(2026, 3, 16)


def test_the_task_id_depends_only_on_event_assignee_and_kind() -> None:
    assert _task().id == _task().id == task_id_for("ev-1", "P-1", TaskKind.AUDIT)
    assert _task(assignee_id="P-2").id != _task().id
    assert _task(event_id="ev-2").id != _task().id
    assert _task(kind=TaskKind.PEER_REVIEW).id != _task().id


def test_only_chased_kinds_carry_a_next_reminder() -> None:
    assert _task(kind=TaskKind.AUDIT_COPY).next_reminder_on is None
    assert _task(kind=TaskKind.WORKFLOW_MESSAGE).next_reminder_on is None
    assert _task(kind=TaskKind.PEER_REVIEW).next_reminder_on == date(2026, 3, 16)


def test_marking_done_records_who_and_when_and_stops_the_reminders() -> None:
    task = _task()
    later = datetime(2026, 3, 3, tzinfo=UTC)
    task.mark_done(by="P-1", at=later)
    assert (task.status, task.version, task.status_changed_by, task.status_changed_at) == (TaskStatus.DONE, 2, "P-1", later)
    assert task.next_reminder_on is None
    assert task.history[-1].reason == "marked done"


def test_a_closed_task_cannot_be_marked_done_or_cancelled_again() -> None:
    task = _task()
    task.cancel(by="P-1", at=AT, reason="not mine")
    with pytest.raises(TaskClosed):
        task.mark_done(by="P-1", at=AT)
    with pytest.raises(TaskClosed):
        task.cancel(by="P-1", at=AT)
    assert task.version == 2


def test_the_satisfying_event_closes_an_open_task_once() -> None:
    task = _task()
    assert task.close_by_event(outcome=TaskStatus.DONE, reason="audit submitted", by="P-1", at=AT, event_id="ev-9")
    assert (task.status, task.version, task.history[-1].event_id) == (TaskStatus.DONE, 2, "ev-9")
    assert not task.close_by_event(outcome=TaskStatus.CANCELLED, reason="again", by=None, at=AT, event_id="ev-10")
    assert (task.status, task.version) == (TaskStatus.DONE, 2)


def test_an_event_never_reopens_a_task() -> None:
    with pytest.raises(ValueError):
        _task().close_by_event(outcome=TaskStatus.OPEN, reason="x", by=None, at=AT, event_id="e")


def test_someone_elses_task_looks_like_no_task() -> None:
    with pytest.raises(TaskNotFound):
        _task().ensure_assignee("P-2")
    _task().ensure_assignee("P-1")


def test_a_reminder_counts_and_moves_the_next_date() -> None:
    task = _task()
    task.remind(on=date(2026, 3, 16), number=1, next_on=date(2026, 3, 30), at=AT)
    assert (task.reminders_sent, task.last_reminded_on, task.next_reminder_on, task.version) == (1, date(2026, 3, 16), date(2026, 3, 30), 2)
    assert task.history[-1].reason == "reminder 1 sent"
    task.mark_done(by="P-1", at=AT)
    with pytest.raises(TaskClosed):
        task.remind(on=date(2026, 3, 30), number=2, next_on=date(2026, 4, 14), at=AT)
