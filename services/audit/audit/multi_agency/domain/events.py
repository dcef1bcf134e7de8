"""Domain events a multi-agency audit records as it changes (``MultiAgencyAudit.events``); the one
translator at the end of ``multi_agency.events`` turns them into integration events.

Plain Python with no import of the aggregate's module (which imports this one): the consulted
party and an action's status are carried as their ``ConsultedParty`` / ``ActionStatus`` members,
string enums, typed here as ``str``."""

from __future__ import annotations

from datetime import date

from ...common.events import DomainEvent


class ConsultationRecorded(DomainEvent):
    #: A ``ConsultedParty``.
    party: str
    obtained: bool
    held_on: date
    revision: int
    by: str


class MeetingHeld(DomainEvent):
    by: str


class ActionAssigned(DomainEvent):
    action_id: str
    by: str


class ActionStatusChanged(DomainEvent):
    """Kept in the action's history; only a completion is published."""

    action_id: str
    #: An ``ActionStatus``.
    status: str
    by: str


class ActionCompleted(DomainEvent):
    action_id: str
    by: str


class PlanReported(DomainEvent):
    number: int
    by: str


class AuditDestroyed(DomainEvent):
    """Held three years, destroyed by the scheduled pass (Appendix E 6)."""

    as_of: date
    by: str
