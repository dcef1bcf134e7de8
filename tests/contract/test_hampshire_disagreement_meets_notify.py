"""Contract: the audit service's Hampshire disagreement events (seed 003, 10.5), built with the audit
service's own models, are read by notify's mapping (``notify.mappings.hampshire``): the raised
event opens a task for the team/unit manager, assigned by the auditor; the settled event closes it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from audit.hampshire import events as he
from notify.domain.kinds import TaskKind
from notify.domain.tasks import Origin, TaskStatus
from notify.mappings import all_mappings
from notify.mappings import hampshire as nh
from shared.consumer import ReceivedEvent
from shared.events import EventType

NOW = datetime(2026, 11, 3, 9, 0, tzinfo=UTC)


class People:
    async def line_manager_of(self, person_id: str) -> str | None:
        return None


async def _effects(produced: EventType, data: Any) -> Any:
    envelope = produced.envelope(data, source="/audit", subject=f"hampshire-file/{data.file_id}", time=NOW)
    [mapping] = [m for m in all_mappings() if m.event_type.routing_key == produced.routing_key]
    return await mapping.translate(ReceivedEvent(envelope, mapping.event_type.parse_data(envelope)), People())


async def test_a_raised_disagreement_is_a_task_for_the_team_manager_closed_by_its_outcome() -> None:
    raised = he.DisagreementRaised(
        file_id="F-1",
        month="2026-10",
        case_id="C-1",
        team_id="T-1",
        worker_id="P-SW",
        supervisor_id="P-TM",
        auditor_id="P-SM",
        team_manager_id="P-TM",
        standards=["standard_03", "standard_11"],
        raised_at=NOW,
    )
    opened = await _effects(he.DISAGREEMENT_RAISED, raised)
    [task] = opened.open
    assert task.assignee_id == "P-TM" and task.assigned_by == "P-SM" and task.origin is Origin.PERSON
    assert task.kind is TaskKind.STANDARD_DISAGREEMENT and task.closes_on == nh.disagreement_key("F-1")
    assert task.link.path == "/hampshire/files/F-1" and "standards 3, 11" in task.subject and task.email is not None
    assert "C-1" not in task.subject and "C-1" not in str(task.context), "the task names the file, never the case"
    settled = he.DisagreementSettled(
        file_id="F-1",
        month="2026-10",
        team_id="T-1",
        auditor_id="P-SM",
        team_manager_id="P-TM",
        standards=["standard_03"],
        outcome="agreed",
        settled_at=NOW,
    )
    closed = await _effects(he.DISAGREEMENT_SETTLED, settled)
    [close] = closed.close
    assert close.key == task.closes_on and close.outcome is TaskStatus.DONE and close.by == "P-TM" and not closed.open
