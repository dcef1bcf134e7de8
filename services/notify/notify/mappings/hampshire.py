"""Hampshire's disagreement (seed 003, 10.5): "If a team/unit manager decides that evidence meets the
required standard but the auditor ... makes a judgement that the evidence does not meet the
required standard, the auditor must raise this with the team/unit manager."

The audit service's ``audit.hampshire.disagreement.raised`` opens a task (with the "task" email) in
the team/unit manager's tray, assigned by the auditor; ``audit.hampshire.disagreement.settled``
(the team/unit manager recorded the outcome) closes it. Reader models of version 1, tolerant of
fields notify does not use; they carry identifiers only (the auditor's reasons stay in the audit
service).

The task is of kind ``standard_disagreement`` (email on by default, chased every
``REMINDER_WORKING_DAYS`` until the outcome is recorded); one opened before that kind existed is
kept as ``workflow_message`` and closes the same way.
"""

from __future__ import annotations

from pydantic import Field
from shared.consumer import ReceivedEvent

from ..domain.effects import CloseTasks, Effects
from ..domain.kinds import TaskKind
from ..domain.tasks import Link, Origin, TaskStatus
from .base import Mapping, Reader, audit_event, context, pure, task


class DisagreementRaised(Reader):
    file_id: str
    month: str
    team_id: str | None = None
    auditor_id: str
    team_manager_id: str
    standards: list[str] = Field(default_factory=list)


class DisagreementSettled(Reader):
    file_id: str
    team_manager_id: str | None = None
    outcome: str | None = None


DISAGREEMENT_RAISED = audit_event(
    "audit.hampshire.disagreement.raised",
    DisagreementRaised,
    "The auditor judged not met standards the team/unit manager said were met.",
)
DISAGREEMENT_SETTLED = audit_event(
    "audit.hampshire.disagreement.settled", DisagreementSettled, "The team/unit manager recorded the outcome of a disagreement."
)


def disagreement_key(file_id: str) -> str:
    return f"audit:hampshire-file/{file_id}:disagreement"


def _standards(keys: list[str]) -> str:
    numbers = [k.removeprefix("standard_").lstrip("0") or k for k in keys]
    return ("standard " if len(numbers) == 1 else "standards ") + ", ".join(numbers)


def disagreement_raised(event: ReceivedEvent) -> Effects:
    d: DisagreementRaised = event.data
    return Effects(open=[task(
        d.team_manager_id, TaskKind.STANDARD_DISAGREEMENT,
        subject=f"The auditor judged {_standards(d.standards)} not met on prepared file {d.file_id} ({d.month})",
        action="You listed evidence as meeting the standard; the auditor judged it does not. Discuss it with the auditor and record the outcome",
        link=Link("audit", f"/hampshire/files/{d.file_id}"),
        origin=Origin.PERSON, assigned_by=d.auditor_id, closes_on=disagreement_key(d.file_id),
        context=context(d, "file_id", "month", standards=",".join(d.standards), team_id=d.team_id or None),
    )])


def disagreement_settled(event: ReceivedEvent) -> Effects:
    s: DisagreementSettled = event.data
    return Effects(close=[CloseTasks(disagreement_key(s.file_id), TaskStatus.DONE, f"outcome recorded: {s.outcome or 'recorded'}", s.team_manager_id)])


MAPPINGS = [
    Mapping(DISAGREEMENT_RAISED, pure(disagreement_raised)),
    Mapping(DISAGREEMENT_SETTLED, pure(disagreement_settled)),
]
