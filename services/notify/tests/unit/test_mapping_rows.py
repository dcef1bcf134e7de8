"""The parts every mapping's table is built of: ``context`` (what a task records of its event),
``task`` (who sent it, and its email) and ``closes`` rows."""

from __future__ import annotations

from datetime import UTC, date, datetime

from notify.domain.kinds import TaskKind
from notify.domain.tasks import Link, Origin, TaskStatus
from notify.mappings.base import TASK_EMAIL, closes, context, task
from notify.mappings.qa_framework import IMPROVEMENT_ACTION_DROPPED, ImprovementActionDue, ObservationDue
from shared.consumer import ReceivedEvent

from .conftest import People


def test_context_gives_each_field_as_text_leaving_out_optional_ones_not_set_and_more_that_are_none() -> None:
    due = ObservationDue(social_worker_id="", line_manager_id="", due_on=date(2026, 3, 2))
    assert context(due, "social_worker_id", "line_manager_id", "due_on", "last_observed_on", extra="x", absent=None) == {
        "social_worker_id": "", "due_on": "2026-03-02", "extra": "x",
    }
    assert context(ImprovementActionDue(review_id="R-1", action_number=0, owner_id="O-1"), "action_number") == {"action_number": "0"}


def test_a_task_is_sent_by_the_person_named_else_by_the_system_and_comes_with_the_task_email() -> None:
    link = Link("audit", "/samples/S-1")
    by_person = task("P-1", TaskKind.AUDIT, subject="s", action="a", link=link, assigned_by="P-2")
    by_system = task("P-1", TaskKind.AUDIT, subject="s", action="a", link=link, email=None)
    assert (by_person.origin, by_person.assigned_by, by_person.email) == (Origin.PERSON, "P-2", TASK_EMAIL)
    assert (by_system.origin, by_system.assigned_by, by_system.email, by_system.context) == (Origin.SYSTEM, None, None, {})
    assert task("P-1", TaskKind.AUDIT, subject="s", action="a", link=link, origin=Origin.PERSON).origin is Origin.PERSON


async def test_a_closes_row_closes_the_tasks_waiting_on_its_key_with_its_reason_outcome_and_who() -> None:
    row = closes(IMPROVEMENT_ACTION_DROPPED, lambda a: f"action/{a.action_number}", "dropped", by="dropped_by", outcome=TaskStatus.CANCELLED)
    assert row.event_type is IMPROVEMENT_ACTION_DROPPED
    model = IMPROVEMENT_ACTION_DROPPED.data_model
    data = model.model_validate({"review_id": "R-1", "action_number": 2, "dropped_by": "P-9"})
    envelope = IMPROVEMENT_ACTION_DROPPED.envelope(data, source="/qa/audit", subject=None, time=datetime(2026, 3, 2, tzinfo=UTC))
    effects = await row.translate(ReceivedEvent(envelope, IMPROVEMENT_ACTION_DROPPED.parse_data(envelope)), People())
    [close] = effects.close
    assert (close.key, close.outcome, close.reason, close.by) == ("action/2", TaskStatus.CANCELLED, "dropped", "P-9")
    assert not effects.open
