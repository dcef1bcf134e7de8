"""Integration events of practice observation, monitoring forms and complaints (imports only
shared.* and pydantic, so ``audit.events`` can list them). Identifiers and facts, never a name."""

from __future__ import annotations

from datetime import date, datetime

from shared.events import EventData, EventType

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
