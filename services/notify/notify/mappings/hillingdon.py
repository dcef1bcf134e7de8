"""Hillingdon's single-agency audit round (seed 002, Appendix D): "The Team Manager will
subsequently complete an overview of all the findings of all the audits of cases within the team,
report this to the Service Manager".

- the round allocated: a task for the team's manager to complete the overview once the round's
  audits are returned (due with them, two months on), closed when they report it;
- the overview reported: a task and email for the service manager to read it (the overview's
  text stays in the audit service: the task links to the round).

Reader models of the audit service's ``audit.single-agency-*`` events (version 1), tolerant of
fields notify does not use. The auditors' own tasks come from ``audit.audit.allocated``.
Both tasks are of kind ``findings_overview`` (email on by default; chased once overdue, so the
team manager's from the round's due date, the service manager's, which has none, never); those
opened before that kind existed are kept as ``workflow_message`` and close the same way.
"""

from __future__ import annotations

from datetime import date

from pydantic import Field
from shared.consumer import ReceivedEvent

from ..domain.effects import CloseTasks, Effects
from ..domain.kinds import TaskKind
from ..domain.tasks import Link, TaskStatus
from .base import Mapping, Reader, audit_event, context, pure, task


class _Round(Reader):
    """What both events say of the round: its month, its team and the team's managers."""

    round_id: str
    month: str
    team_id: str
    team_manager_id: str
    service_manager_id: str


class RoundAllocated(_Round):
    due_on: date | None = None
    drawn_up_by: str | None = None


class OverviewReported(_Round):
    audit_ids: list[str] = Field(default_factory=list)


ROUND_ALLOCATED = audit_event(
    "audit.single-agency-round.allocated", RoundAllocated, "A team's single-agency audit round was allocated."
)
OVERVIEW_REPORTED = audit_event(
    "audit.single-agency-overview.reported", OverviewReported, "A team manager reported the round's overview to the service manager."
)


def overview_key(round_id: str) -> str:
    return f"audit:single-agency-round/{round_id}:overview"


def _link(round_id: str) -> Link:
    return Link("audit", f"/hillingdon/rounds/{round_id}")


def round_allocated(event: ReceivedEvent) -> Effects:
    r: RoundAllocated = event.data
    return Effects(open=[task(
        r.team_manager_id, TaskKind.FINDINGS_OVERVIEW,
        subject=f"Single-agency audit round {r.month}: complete the overview of your team's audits",
        action="Once the round's audits are returned, complete an overview of all their findings and report it to the service manager",
        link=_link(r.round_id), due_on=r.due_on, closes_on=overview_key(r.round_id), context=context(r, "round_id", "month", "team_id"),
    )])


def overview_reported(event: ReceivedEvent) -> Effects:
    o: OverviewReported = event.data
    return Effects(
        close=[CloseTasks(overview_key(o.round_id), TaskStatus.DONE, "overview reported to the service manager", o.team_manager_id)],
        open=[task(
            o.service_manager_id, TaskKind.FINDINGS_OVERVIEW,
            subject=f"Single-agency audit round {o.month}: the team manager's overview of the findings",
            action="Read the team manager's overview of the findings of the team's audits",
            link=_link(o.round_id), assigned_by=o.team_manager_id, context=context(o, "round_id", "month", "team_id"),
        )],
    )


MAPPINGS = [Mapping(ROUND_ALLOCATED, pure(round_allocated)), Mapping(OVERVIEW_REPORTED, pure(overview_reported))]
