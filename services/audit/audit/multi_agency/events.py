"""Integration events of multi-agency audits. Each names the case by its code (``case_ref``), never
by its id or the child's name; free text (views, findings, actions) stays in the service and is
read through the API by the audit's parties."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime

from pydantic import Field
from shared.events import EventData, EventType

from ..common.translation import AuditEvent, event_type
from .domain import events as ev
from .domain import retention
from .domain.audit import MultiAgencyAudit


class ConsultationRecorded(AuditEvent):
    party: str
    """child, parent_carer, social_worker or team_manager."""
    obtained: bool
    """True when the party's views were obtained; false when they could not be."""
    held_on: date
    """The date of the consultation."""
    revision: int
    """1 when first recorded; a revision keeps the earlier ones."""
    recorded_by: str
    recorded_at: datetime


class AgencyRepresentative(EventData):
    agency: str
    """The partner agency, e.g. health, police, childrens_social_care."""
    representative_id: str
    """The agency's representative's person id in the directory."""


class MeetingHeld(AuditEvent):
    chair_id: str
    """The person id of the Lead QA Auditor who chaired the meeting."""
    held_on: date
    """The date of the meeting."""
    agreed_grade: str
    """The Ofsted grade agreed with the partners present."""
    partners_present: list[AgencyRepresentative]
    """The partner agencies present, each with its representative."""
    held_at: datetime


class _ActionEvent(AuditEvent):
    action_id: str
    """The action's id in the multi-agency action plan."""


class ActionAssigned(_ActionEvent):
    """A task for the owner: the action's text is read at ``action_path``."""

    agency: str
    """The agency responsible for the action, e.g. health."""
    owner_id: str
    """The person id of the action's owner in that agency."""
    due_on: date
    """The date the action is due."""
    action_path: str = Field(description="Where the action is read (through the gateway: ``/api/v1/audit`` + this path).")
    assigned_by: str
    assigned_at: datetime


class ActionCompleted(_ActionEvent):
    agency: str
    """The agency responsible for the action."""
    owner_id: str
    """The person id of the action's owner."""
    completed_by: str
    open_actions: int
    """Actions of the plan not yet done (0: the plan is complete and can be reported so)."""
    completed_at: datetime


class AgencyProgress(EventData):
    agency: str
    """The partner agency."""
    owner_id: str
    """The person id of the agency's action owner."""
    actions: int
    """How many actions of the plan are the agency's."""
    done: int
    """How many of them are done."""


class PlanReported(AuditEvent):
    report: int
    """The report's number (1 for the first)."""
    kind: str
    """``progress`` (actions still open) or ``completion`` (every action done; the plan is closed)."""
    to: str = "qa_sub_committee"
    """Who it is reported to: qa_sub_committee (the safeguarding board's QA sub-committee)."""
    agreed_grade: str
    actions_total: int
    """How many actions the plan has."""
    actions_done: int
    """How many are done."""
    agencies: list[AgencyProgress]
    """Progress per agency."""
    pdf_path: str | None = None
    """Where the report's PDF is read (through the gateway: ``/api/v1/audit`` + this path)."""
    reported_by: str
    reported_at: datetime


class AuditDestroyed(EventData):
    """Ids and dates only: the audit is gone, its anonymous counts kept for the reports."""

    audit_id: str
    set_up_on: date
    """The day the audit was set up."""
    held_until: date
    """Its third anniversary: the HSCB holds the audits for three years before destroying them."""
    as_of: date
    """The day the scheduled pass ran as."""
    destroyed_by: str
    """The scheduled pass (audit-scheduler), never a person."""
    destroyed_at: datetime


CONSULTATION_RECORDED = event_type(
    "audit.multi-agency.consultation.recorded", ConsultationRecorded,
    "A multi-agency audit recorded (or revised) the views of the child, a parent or carer, the social worker or the team manager.",
)
MEETING_HELD = event_type(
    "audit.multi-agency.meeting.held", MeetingHeld,
    "The multi-agency meeting chaired by the Lead QA Auditor agreed the findings and the Ofsted grade with the partners present.",
)
ACTION_ASSIGNED = event_type(
    "audit.multi-agency.action.assigned", ActionAssigned, "An action of the multi-agency action plan was assigned to its agency's owner."
)
ACTION_COMPLETED = event_type("audit.multi-agency.action.completed", ActionCompleted, "An action of the multi-agency action plan was done.")
PLAN_REPORTED = event_type(
    "audit.multi-agency.plan.reported", PlanReported,
    "The multi-agency action plan was reported to the safeguarding board's QA sub-committee (progress, or completion).",
)

AUDIT_DESTROYED = event_type(
    "audit.multi-agency.audit.destroyed", AuditDestroyed,
    "A multi-agency audit held for three years was destroyed by the scheduled pass: the audit, its case audit and their PDFs; its anonymous counts are kept.",
)

EVENTS: list[EventType] = [CONSULTATION_RECORDED, MEETING_HELD, ACTION_ASSIGNED, ACTION_COMPLETED, PLAN_REPORTED, AUDIT_DESTROYED]


# --- from domain events to integration events --------------------------------------------------
# From the domain events a multi-agency audit recorded to the integration events it publishes,
# under ``audit/<id>``: by its code, never the case id; status changes short of done publish nothing.


def integration_events(audit: MultiAgencyAudit, recorded: list[ev.DomainEvent]) -> Iterator[tuple[EventType, EventData]]:
    """From the domain events a multi-agency audit recorded to what it publishes (by code, never the case id)."""
    a, ref = audit, audit.case_ref
    for e in recorded:
        match e:
            case ev.ConsultationRecorded():
                yield CONSULTATION_RECORDED, ConsultationRecorded(
                    audit_id=a.id, case_ref=ref, party=str(e.party), obtained=e.obtained, held_on=e.held_on, revision=e.revision,
                    recorded_by=e.by, recorded_at=e.at,
                )
            case ev.MeetingHeld() if a.meeting is not None:
                m = a.meeting
                yield MEETING_HELD, MeetingHeld(
                    audit_id=a.id, case_ref=ref, chair_id=m.chair_id, held_on=m.held_on, agreed_grade=m.agreed_grade.value,
                    partners_present=[
                        AgencyRepresentative(agency=p.agency, representative_id=p.representative_id) for p in a.partners if p.agency in m.partners_present
                    ],
                    held_at=e.at,
                )
            case ev.ActionAssigned():
                action = a.action(e.action_id)
                yield ACTION_ASSIGNED, ActionAssigned(
                    audit_id=a.id, case_ref=ref, action_id=action.id, agency=action.agency, owner_id=action.owner_id, due_on=action.due_on,
                    action_path=f"/v1/multi-agency/audits/{a.id}", assigned_by=e.by, assigned_at=e.at,
                )
            case ev.ActionCompleted() if a.plan is not None:
                action = a.action(e.action_id)
                yield ACTION_COMPLETED, ActionCompleted(
                    audit_id=a.id, case_ref=ref, action_id=action.id, agency=action.agency, owner_id=action.owner_id, completed_by=e.by,
                    open_actions=sum(1 for x in a.plan.actions if not x.done), completed_at=e.at,
                )
            case ev.PlanReported() if a.plan is not None and a.meeting is not None:
                r = a.reports[e.number - 1]
                yield PLAN_REPORTED, PlanReported(
                    audit_id=a.id, case_ref=ref, report=r.number, kind=r.kind.value, agreed_grade=a.meeting.agreed_grade.value,
                    actions_total=r.actions_total, actions_done=r.actions_done,
                    agencies=[AgencyProgress(agency=g, owner_id=o, actions=n, done=d) for g, o, n, d in a.plan.by_agency()],
                    pdf_path=f"/v1/multi-agency/audits/{a.id}/reports/{r.number}/pdf" if r.pdf_id else None, reported_by=e.by, reported_at=e.at,
                )
            case ev.AuditDestroyed():
                started = retention.set_up_on(a)
                yield AUDIT_DESTROYED, AuditDestroyed(
                    audit_id=a.id, set_up_on=started, held_until=retention.destroy_on(started), as_of=e.as_of, destroyed_by=e.by, destroyed_at=e.at,
                )
            case _:
                # Status changes short of done stay in the action's history.
                continue
