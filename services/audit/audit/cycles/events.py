"""The monthly cycle's events: a drawn sample, and the internal allocation work items the audit
service's replicas share. The cycle's domain events (``cycles.domain.events``) become these in one
place, ``record`` at the end of this module."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime

from shared.event_translation import carried
from shared.events import EventData, EventType
from shared.mongo import Transaction

from ..case_audit.events import SERVICE, _type
from ..common.translation import stage
from .domain import events as ev


class CycleDrawn(EventData):
    """A month's sample was drawn; its allocation follows (one ``audit.audit.allocated`` per auditor)."""

    cycle_id: str
    """The cycle's id: <tool_id>:<month>."""
    tool_id: str
    programme: str
    month: str
    """The audit month drawn, as YYYY-MM."""
    seed: str
    """The recorded seed of the draw: drawing again with the same seed and inputs gives the same sample."""
    audits: int
    """How many audits were drawn (one per auditor)."""
    eligible_cases: int
    """How many cases were eligible for the draw."""
    uncovered_team_ids: list[str]
    """Teams still without a case in the sample, for QA staff to allocate by hand."""
    dispensed_ids: list[str]
    """Person ids of auditors with a dispensation for the month (not allocated)."""
    draw_on: date
    """The date the month's sample is drawn on, by the cycle's timetable."""
    due_on: date
    """The date the month's audits are due (the end of the month)."""
    drawn_by: str
    """The person who drew the sample, or the scheduler."""
    drawn_at: datetime


class AllocationRequested(EventData):
    """Internal work item (one per auditor), consumed by the audit service's own replicas from
    its allocation queue. Not for integrators: ``audit.audit.allocated`` is the outcome."""

    cycle_id: str
    """The cycle's id: <tool_id>:<month>."""
    tool_id: str
    tool_version: int
    month: str
    """The audit month, as YYYY-MM."""
    allocation_key: str
    """What makes the auditor's audit of the month one audit however often the item runs: <tool_id>:<month>:<auditor_id>."""
    auditor_id: str
    """The auditor to allocate the audit to."""
    case_id: str
    """The drawn case's id in the directory."""
    peer_reviewer_id: str | None = None
    """The peer reviewer drawn for the audit; null when it has none."""
    requested_by: str
    """The person who drew the cycle, or the scheduler."""
    basis: str | None = None
    """How the draw chose the case: line_managed, team_cover or own_service (the fallback); null in a work item from before it was carried."""


CYCLE_DRAWN = _type("audit.cycle.drawn", CycleDrawn, "A month's audit sample was drawn for a programme; allocations follow.")
ALLOCATION_REQUESTED = EventType(
    "audit.allocation.requested", 1, AllocationRequested,
    "Internal: one auditor's allocation work item for the audit service's replicas.", SERVICE,
    internal=True,  # a work item between the audit service's own replicas
)

EVENTS: list[EventType] = [CYCLE_DRAWN, ALLOCATION_REQUESTED]


# --- from domain events to integration events --------------------------------------------------
# What a drawn cycle recorded to what it publishes, staged in the transaction that records the
# cycle (the outbox): the drawn sample, then one allocation work item per auditor, in that order.


def _integration(e: ev.DomainEvent) -> tuple[EventType, EventData, str] | None:
    """The integration event (type, data, subject) of one domain event; None for what is not published."""
    match e:
        case ev.CycleDrawn():
            return CYCLE_DRAWN, carried(CycleDrawn, e, drawn_by=e.by, drawn_at=e.at), f"cycle/{e.cycle_id}"
        case ev.AllocationRequested(assignment=a):
            return ALLOCATION_REQUESTED, carried(AllocationRequested, e, a, requested_by=e.by), f"cycle/{e.cycle_id}/{a.auditor_id}"
    return None


def record(tx: Transaction, happened: Iterable[ev.DomainEvent]) -> None:
    """Stage the integration events of what happened, in order, in ``tx``."""
    stage(tx, _integration, happened)
