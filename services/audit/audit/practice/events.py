"""Integration events of practice observation, monitoring forms and complaints (imports only
shared.*, pydantic and the plain domain events, so ``audit.events`` can list them). Identifiers and
facts, never a name. Ends with the one translator from the domain events (``domain.events``) to
these, staged in the transaction that wrote the record (the outbox)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime

from shared.events import EventData, EventType
from shared.mongo import Transaction

from .domain import events as ev

SERVICE = "audit"


class ObservationPlanned(EventData):
    observation_id: str
    social_worker_id: str
    observer_id: str
    team_id: str | None = None
    situation: str
    planned_on: date
    planned_at: datetime


class ObservationReported(EventData):
    observation_id: str
    social_worker_id: str
    observer_id: str
    team_id: str | None = None
    observed_on: date
    #: Two weeks after the session.
    feedback_due_on: date
    written_late: bool
    #: True for a revision of a report already given.
    revised: bool
    reported_at: datetime


class ObservationDue(EventData):
    """A social worker's next practice observation is due (one event per due day)."""

    social_worker_id: str
    line_manager_id: str | None = None
    team_id: str | None = None
    due_on: date
    remind_on: date
    last_observed_on: date | None = None
    observations_last_12_months: int
    overdue: bool


class MonitoringFormSubmitted(EventData):
    """Each completed form goes to the team manager for discussion in supervision."""

    form_id: str
    kind: str
    case_id: str
    team_id: str | None = None
    team_manager_id: str | None = None
    author_id: str
    meeting_on: date
    report_on_time: bool | None = None
    submitted_at: datetime


class MonitoringCollationIssued(EventData):
    collation_id: str
    team_id: str
    month: str
    team_manager_id: str | None = None
    forms: int
    reports_on_time: int
    reports_late: int
    plans_not_progressing: int
    version: int
    issued_by: str
    issued_at: datetime


class ComplaintLessonsRecorded(EventData):
    record_id: str
    complaint_ref: str
    kind: str
    team_id: str
    outcome: str
    actions_taken: list[str]
    manager_id: str
    version: int
    recorded_at: datetime


def _type(name: str, model: type[EventData], summary: str) -> EventType:
    return EventType(name, 1, model, summary, SERVICE)


OBSERVATION_PLANNED = _type("audit.observation.planned", ObservationPlanned, "A practice observation was planned; the social worker is asked to agree it.")
OBSERVATION_REPORTED = _type("audit.observation.reported", ObservationReported, "The observer wrote (or revised) the report of a practice observation.")
OBSERVATION_DUE = _type("audit.observation.due", ObservationDue, "A social worker's next practice observation is due (at least two a year).")
MONITORING_FORM_SUBMITTED = _type(
    "audit.monitoring-form.submitted", MonitoringFormSubmitted, "An IRO or CP chair completed a monitoring form for a conference or review."
)
MONITORING_COLLATION_ISSUED = _type(
    "audit.monitoring-collation.issued", MonitoringCollationIssued, "A team's monitoring forms of a month were collated for the QA liaison meeting."
)
COMPLAINT_LESSONS_RECORDED = _type(
    "audit.complaint-lessons.recorded", ComplaintLessonsRecorded, "Lessons learned from a complaint or member's enquiry were recorded (or revised)."
)

EVENTS: list[EventType] = [
    OBSERVATION_PLANNED, OBSERVATION_REPORTED, OBSERVATION_DUE, MONITORING_FORM_SUBMITTED, MONITORING_COLLATION_ISSUED, COMPLAINT_LESSONS_RECORDED,
]


# --- from domain events to integration events --------------------------------------------------


def integration_event(e: ev.DomainEvent) -> tuple[EventType, EventData, str] | None:
    """The integration event a domain event publishes, with its subject (None: not published)."""
    match e:
        case ev.ObservationPlanned():
            return OBSERVATION_PLANNED, ObservationPlanned(
                observation_id=e.observation_id, social_worker_id=e.social_worker_id, observer_id=e.observer_id, team_id=e.team_id,
                situation=e.situation, planned_on=e.planned_on, planned_at=e.at,
            ), f"observation/{e.observation_id}"
        case ev.ObservationReported():
            return OBSERVATION_REPORTED, ObservationReported(
                observation_id=e.observation_id, social_worker_id=e.social_worker_id, observer_id=e.observer_id, team_id=e.team_id,
                observed_on=e.observed_on, feedback_due_on=e.feedback_due_on, written_late=e.written_late, revised=e.revised, reported_at=e.at,
            ), f"observation/{e.observation_id}"
        case ev.ObservationDue():
            return OBSERVATION_DUE, ObservationDue(
                social_worker_id=e.social_worker_id, line_manager_id=e.line_manager_id, team_id=e.team_id, due_on=e.due_on,
                remind_on=e.remind_on, last_observed_on=e.last_observed_on, observations_last_12_months=e.observations_last_12_months,
                overdue=e.overdue,
            ), f"social-worker/{e.social_worker_id}"
        case ev.MonitoringFormSubmitted():
            return MONITORING_FORM_SUBMITTED, MonitoringFormSubmitted(
                form_id=e.form_id, kind=e.kind, case_id=e.case_id, team_id=e.team_id, team_manager_id=e.team_manager_id,
                author_id=e.by, meeting_on=e.meeting_on, report_on_time=e.report_on_time, submitted_at=e.at,
            ), f"monitoring-form/{e.form_id}"
        case ev.CollationIssued():
            return MONITORING_COLLATION_ISSUED, MonitoringCollationIssued(
                collation_id=e.collation_id, team_id=e.team_id, month=e.month, team_manager_id=e.team_manager_id, forms=e.forms,
                reports_on_time=e.reports_on_time, reports_late=e.reports_late, plans_not_progressing=e.plans_not_progressing,
                version=e.version, issued_by=e.by, issued_at=e.at,
            ), f"monitoring-collation/{e.collation_id}"
        case ev.ComplaintLessonsRecorded():
            return COMPLAINT_LESSONS_RECORDED, ComplaintLessonsRecorded(
                record_id=e.record_id, complaint_ref=e.complaint_ref, kind=e.kind, team_id=e.team_id, outcome=e.outcome,
                actions_taken=list(e.actions_taken), manager_id=e.by, version=e.version, recorded_at=e.at,
            ), f"complaint-lessons/{e.record_id}"
    return None


def record(tx: Transaction, happened: Iterable[ev.DomainEvent]) -> None:
    """Stage the integration events of what happened, in order, in the transaction that wrote it."""
    for e in happened:
        staged = integration_event(e)
        if staged is not None:
            event_type, data, subject = staged
            tx.record(event_type, data, subject=subject)
