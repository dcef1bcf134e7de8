"""The monthly cycle's events: a drawn sample, and the internal allocation work items the audit
service's replicas share."""

from __future__ import annotations

from datetime import date, datetime

from shared.events import EventData, EventType

from ..case_audit.events import SERVICE, _type


class CycleDrawn(EventData):
    """A month's sample was drawn; its allocation follows (one ``audit.audit.allocated`` per auditor)."""

    cycle_id: str
    tool_id: str
    programme: str
    month: str
    seed: str
    audits: int
    eligible_cases: int
    uncovered_team_ids: list[str]
    dispensed_ids: list[str]
    draw_on: date
    due_on: date
    drawn_by: str
    drawn_at: datetime


class AllocationRequested(EventData):
    """Internal work item (one per auditor), consumed by the audit service's own replicas from
    its allocation queue. Not for integrators: ``audit.audit.allocated`` is the outcome."""

    cycle_id: str
    tool_id: str
    tool_version: int
    month: str
    allocation_key: str
    auditor_id: str
    case_id: str
    peer_reviewer_id: str | None = None
    requested_by: str


CYCLE_DRAWN = _type("audit.cycle.drawn", CycleDrawn, "A month's audit sample was drawn for a programme; allocations follow.")
ALLOCATION_REQUESTED = EventType(
    "audit.allocation.requested", 1, AllocationRequested,
    "Internal: one auditor's allocation work item for the audit service's replicas.", SERVICE,
    internal=True,  # a work item between the audit service's own replicas
)

EVENTS: list[EventType] = [CYCLE_DRAWN, ALLOCATION_REQUESTED]
