"""Domain events of practice observation, monitoring forms and complaints' lessons: what happened,
as plain values (an enum member is carried as its ``str`` value). The one translator at the end of
``practice.events`` turns them into integration events.

An observation records its events as it changes (``Observation.events``); the records without an
aggregate (monitoring forms, collations, complaints' lessons, reminders) get theirs from the use
case that wrote them, or from the rule that decided them (``observation.due_reminder``)."""

from __future__ import annotations

from datetime import date, datetime

from ...common.events import Event


class DomainEvent(Event, kw_only=True):
    """Something that happened to a practice record."""


class ObservationPlanned(DomainEvent):
    observation_id: str
    social_worker_id: str
    observer_id: str
    team_id: str | None
    #: A ``Situation``.
    situation: str
    planned_on: date
    at: datetime


class ObservationReported(DomainEvent):
    """The observer wrote the report, or revised it (``revised``)."""

    observation_id: str
    social_worker_id: str
    observer_id: str
    team_id: str | None
    observed_on: date
    feedback_due_on: date
    written_late: bool
    revised: bool
    at: datetime


class ObservationDue(DomainEvent):
    """A social worker's next observation is due (the reminder of one due day)."""

    social_worker_id: str
    line_manager_id: str | None
    team_id: str | None
    due_on: date
    remind_on: date
    last_observed_on: date | None
    observations_last_12_months: int
    overdue: bool


class MonitoringFormSubmitted(DomainEvent):
    form_id: str
    #: A ``MonitoringKind``.
    kind: str
    case_id: str
    team_id: str | None
    team_manager_id: str | None
    by: str
    meeting_on: date
    report_on_time: bool | None
    at: datetime


class CollationIssued(DomainEvent):
    """A team's monitoring forms of a month were collated (a new version of the collation)."""

    collation_id: str
    team_id: str
    month: str
    team_manager_id: str | None
    forms: int
    reports_on_time: int
    reports_late: int
    plans_not_progressing: int
    version: int
    by: str
    at: datetime


class ComplaintLessonsRecorded(DomainEvent):
    """Lessons learned from a complaint were recorded, or revised (a later ``version``)."""

    record_id: str
    complaint_ref: str
    #: A ``ComplaintKind``.
    kind: str
    team_id: str
    #: An ``Outcome``.
    outcome: str
    #: ``ActionTaken`` values.
    actions_taken: tuple[str, ...]
    by: str
    version: int
    at: datetime
