"""Integration events of practice observation, monitoring forms and complaints (imports only
shared.*, pydantic, ``common.translation`` and the plain domain events, so ``audit.events`` can list them). Identifiers and
facts, never a name. Ends with the one translator from the domain events (``domain.events``) to
these, staged in the transaction that wrote the record (the outbox)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime

from shared.event_translation import carried
from shared.events import EventData, EventType
from shared.mongo import Transaction

from ..common.translation import event_type, stage
from .domain import events as ev


class ObservationPlanned(EventData):
    observation_id: str
    """The practice observation's id in the audit service."""
    social_worker_id: str
    """The social worker to be observed."""
    observer_id: str
    """The person who will observe."""
    team_id: str | None = None
    """The social worker's team; null when unknown."""
    situation: str
    """What is observed: interview, group_work, meeting or presentation."""
    planned_on: date
    """The date of the planned observation."""
    planned_at: datetime


class ObservationReported(EventData):
    observation_id: str
    """The practice observation's id in the audit service."""
    social_worker_id: str
    """The social worker observed."""
    observer_id: str
    """The observer who wrote the report."""
    team_id: str | None = None
    """The social worker's team; null when unknown."""
    observed_on: date
    """The date of the observation."""
    feedback_due_on: date
    """Two weeks after the session."""
    written_late: bool
    """True when the report was written after its feedback due date."""
    revised: bool
    """True for a revision of a report already given."""
    reported_at: datetime


class ObservationDue(EventData):
    """A social worker's next practice observation is due (one event per due day)."""

    social_worker_id: str
    """The social worker whose observation is due."""
    line_manager_id: str | None = None
    """The social worker's line manager; null when the directory names none."""
    team_id: str | None = None
    """The social worker's team; null when unknown."""
    due_on: date
    """The date the next observation is due."""
    remind_on: date
    """The date the reminder is for."""
    last_observed_on: date | None = None
    """The date of their last observation; null when they have none."""
    observations_last_12_months: int
    """How many observations they had in the last twelve months."""
    overdue: bool
    """True when the due date has passed."""


class MonitoringFormSubmitted(EventData):
    """Each completed form goes to the team manager for discussion in supervision."""

    form_id: str
    """The monitoring form's id in the audit service."""
    kind: str
    """The meeting monitored: initial_cp_conference, review_cp_conference, looked_after_review, cp_midpoint_review or looked_after_midpoint_review."""
    case_id: str
    team_id: str | None = None
    """The id of the team that holds the child's case; null when unknown."""
    team_manager_id: str | None = None
    """The team manager the form goes to for supervision; null when unknown."""
    author_id: str
    """The IRO or CP chair who completed the form."""
    meeting_on: date
    """The date of the conference or review."""
    report_on_time: bool | None = None
    """True when the social worker's report arrived on time, false when late; null when not known."""
    submitted_at: datetime


class MonitoringCollationIssued(EventData):
    collation_id: str
    """The collation's id in the audit service."""
    team_id: str
    month: str
    team_manager_id: str | None = None
    """The team's manager; null when unknown."""
    forms: int
    """How many monitoring forms were collated."""
    reports_on_time: int
    """How many reports arrived on time."""
    reports_late: int
    """How many reports arrived late."""
    plans_not_progressing: int
    """How many forms found the plan not progressing."""
    version: int
    """The collation's version: 1 when first issued, one more each time it is issued again."""
    issued_by: str
    issued_at: datetime


class ComplaintLessonsRecorded(EventData):
    record_id: str
    """The lessons-learned record's id in the audit service."""
    complaint_ref: str
    """The complaints team's reference of the complaint (the complainant's name stays with them)."""
    kind: str
    """complaint or members_enquiry."""
    team_id: str
    """The team the complaint was about."""
    outcome: str
    """upheld, part_upheld or not_upheld."""
    actions_taken: list[str]
    """What was done: apology, explanation, provide_service, review_procedure, review_policy or compensation."""
    manager_id: str
    """The manager who recorded the lessons."""
    version: int
    """The record's version: 1 when first recorded, one more for each revision."""
    recorded_at: datetime


OBSERVATION_PLANNED = event_type("audit.observation.planned", ObservationPlanned, "A practice observation was planned; the social worker is asked to agree it.")
OBSERVATION_REPORTED = event_type("audit.observation.reported", ObservationReported, "The observer wrote (or revised) the report of a practice observation.")
OBSERVATION_DUE = event_type("audit.observation.due", ObservationDue, "A social worker's next practice observation is due (at least two a year).")
MONITORING_FORM_SUBMITTED = event_type(
    "audit.monitoring-form.submitted", MonitoringFormSubmitted, "An IRO or CP chair completed a monitoring form for a conference or review."
)
MONITORING_COLLATION_ISSUED = event_type(
    "audit.monitoring-collation.issued", MonitoringCollationIssued, "A team's monitoring forms of a month were collated for the QA liaison meeting."
)
COMPLAINT_LESSONS_RECORDED = event_type(
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
            return OBSERVATION_PLANNED, carried(ObservationPlanned, e, planned_at=e.at), f"observation/{e.observation_id}"
        case ev.ObservationReported():
            return OBSERVATION_REPORTED, carried(ObservationReported, e, reported_at=e.at), f"observation/{e.observation_id}"
        case ev.ObservationDue():
            return OBSERVATION_DUE, carried(ObservationDue, e), f"social-worker/{e.social_worker_id}"
        case ev.MonitoringFormSubmitted():
            return MONITORING_FORM_SUBMITTED, carried(MonitoringFormSubmitted, e, author_id=e.by, submitted_at=e.at), f"monitoring-form/{e.form_id}"
        case ev.CollationIssued():
            return MONITORING_COLLATION_ISSUED, carried(MonitoringCollationIssued, e, issued_by=e.by, issued_at=e.at), f"monitoring-collation/{e.collation_id}"
        case ev.ComplaintLessonsRecorded():
            return COMPLAINT_LESSONS_RECORDED, carried(ComplaintLessonsRecorded, e, manager_id=e.by, recorded_at=e.at), f"complaint-lessons/{e.record_id}"
    return None


def record(tx: Transaction, happened: Iterable[ev.DomainEvent]) -> None:
    """Stage the integration events of what happened, in order, in the transaction that wrote it."""
    stage(tx, integration_event, happened)
