"""Integration events of Hampshire's monthly quality practice audit. Data carries ids and facts,
never a child's name. The contact note carries the case id: it exists to be written on that
child's record (13.1-13.3).

Why a new ``audit.case-note.contact`` rather than ``audit.case-note.summary``: the summary is the
note of a completed audit (analysis, recommended actions, grade, completion time, all required),
written as "Case Audit - Online Audit Programme". Hampshire's notes are profile/contact notes of
two moments, "prepared for audit" (by whom, when) and "quality audited" (who judged, when); the
first has no analysis nor audit to summarise, so reusing the summary would tell the
case-management system an audit was completed when it was not.

The domain's events (``hampshire.domain.events``) become these in one place, ``record`` at the
end of this module.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime

from pydantic import Field
from shared.calendar import local_date
from shared.event_translation import carried
from shared.events import EventData, EventType
from shared.mongo import Transaction

from ..common.translation import event_type, stage
from .domain import events as ev


class _FileEvent(EventData):
    file_id: str
    month: str
    """The month of the quality practice audit, as YYYY-MM."""
    case_id: str
    team_id: str
    """The id of the team that holds the child's case."""


class _PreparedFileEvent(_FileEvent):
    worker_id: str
    supervisor_id: str


class FilePrepared(_PreparedFileEvent):
    service_manager_id: str
    """The service manager who selects the month's files for audit."""
    tool_id: str
    tool_version: int
    missing_standards: list[str]
    """Standards whose evidence the worker and supervisor found missing (7.1), by key."""
    prepared_by: str
    prepared_at: datetime


class ReadyTeam(EventData):
    team_id: str
    """The team's id in the directory."""
    file_ids: list[str]
    """The team's files prepared and ready for audit."""


class FilesReady(EventData):
    """The list of files prepared and ready for audit, sent to the service manager (8.1, 8.3)."""

    list_id: str
    """The list's id in the audit service."""
    month: str
    """The month of the quality practice audit, as YYYY-MM."""
    service_manager_id: str
    """The service manager the list is sent to."""
    teams: list[ReadyTeam]
    """The files ready for audit, per team."""
    file_count: int
    """How many files the list holds."""
    delegate_ids: list[str]
    """Competent people the service manager delegated some of these teams to (8.3: they get the tools)."""
    audit_due_on: date
    """Appendix 5: completed audit tools go to the performance management unit by the 20th of the next month."""
    sent_by: str
    """The person who sent the list, or the scheduler."""
    sent_at: datetime


class SelectionDelegated(EventData):
    delegation_id: str
    month: str
    """The month of the quality practice audit, as YYYY-MM."""
    service_manager_id: str
    """The service manager who delegated."""
    delegate_id: str
    """The competent person the teams' audit is delegated to."""
    team_ids: list[str]
    """The teams whose files the delegate selects and audits."""
    delegated_at: datetime


class FileSelected(_FileEvent):
    service_manager_id: str
    auditor_id: str
    """Who audits it: the service manager or their delegate."""
    delegation_id: str | None = None
    """The delegation the auditor acts under; null when the service manager audits it."""
    delegated_by: str | None = None
    """The service manager who delegated to the auditor; null when there was no delegation."""
    selected_at: datetime
    due_on: date | None = None
    """When the completed tool is due to the performance management unit (Appendix 5: the 20th of the following month)."""


class SelectionClosed(EventData):
    month: str
    """The month of the quality practice audit, as YYYY-MM."""
    service_manager_id: str
    selected_file_ids: list[str]
    """The files selected for audit."""
    not_selected_file_ids: list[str]
    """Files kept with their partially completed tool (12.1)."""
    closed_by: str
    closed_at: datetime


class FileAudited(_PreparedFileEvent):
    """A completed audit tool, for the performance management unit's collation (12.2)."""

    service_manager_id: str
    auditor_id: str
    """The person who audited the file: the service manager or their delegate."""
    delegation_id: str | None = None
    """The delegation the auditor acted under; null when the service manager audited it."""
    delegated_by: str | None = None
    """The service manager who delegated to the auditor; null when there was no delegation."""
    tool_id: str
    tool_version: int
    judgements: dict[str, str]
    """The auditor's judgement per standard key: ``yes``, ``no`` or ``n/a``."""
    audited_at: datetime


class CaseContactNote(EventData):
    """For the case-management system: a profile / contact note on the child's record that the
    file was prepared for audit (date, by whom) or quality audited (date, who judged)."""

    file_id: str
    case_id: str
    stage: str
    """``prepared`` or ``audited``."""
    note_type: str
    """The note's type on the child's record, e.g. 'Quality practice audit: file prepared for audit'."""
    text: str = Field(description="The note as written on the record; names people by id only.")
    by_ids: list[str]
    """The person ids the note names: the worker and supervisor (prepared), or the auditor (audited)."""
    recorded_on: date
    """The date the note records (the day the file was prepared or audited)."""
    recorded_at: datetime


class DisagreementRaised(_PreparedFileEvent):
    """10.5: the auditor judged not met standards the team/unit manager said the evidence meets,
    and raises it with the team/unit manager (a task for notify, until the outcome is recorded)."""

    auditor_id: str
    """The auditor (the service manager or their delegate) who raises it."""
    team_manager_id: str
    """The team/unit manager it is raised with: the team's manager, else the worker's supervisor."""
    standards: list[str]
    """The standards in question, by key."""
    raised_at: datetime


class DisagreementSettled(EventData):
    """10.5: the team/unit manager recorded the outcome of a disagreement the auditor raised."""

    file_id: str
    month: str
    """The month of the quality practice audit, as YYYY-MM."""
    team_id: str
    """The id of the team that holds the child's case."""
    auditor_id: str
    team_manager_id: str
    """The team/unit manager who recorded the outcome."""
    standards: list[str]
    """The standards in question, by key."""
    outcome: str
    """``agreed`` (the team/unit manager accepts the judgement) or ``not_agreed`` (the auditor's judgement stands)."""
    settled_at: datetime


FILE_PREPARED = event_type("audit.hampshire.file.prepared", FilePrepared, "A worker and supervisor prepared a file for the month's quality practice audit.")
FILES_READY = event_type(
    "audit.hampshire.files.ready", FilesReady, "The service manager's list of files ready for audit, per team (a task for notify)."
)
SELECTION_DELEGATED = event_type(
    "audit.hampshire.selection.delegated", SelectionDelegated, "A service manager delegated a month's audit of some teams to a competent person."
)
FILE_SELECTED = event_type("audit.hampshire.file.selected", FileSelected, "A prepared file was selected for audit by the service manager or their delegate.")
SELECTION_CLOSED = event_type(
    "audit.hampshire.selection.closed", SelectionClosed, "A service manager closed the month's selection; unselected files keep their partial tool."
)
FILE_AUDITED = event_type("audit.hampshire.file.audited", FileAudited, "A file's quality practice audit was completed: for the performance management unit's collation.")
CASE_CONTACT_NOTE = event_type(
    "audit.case-note.contact", CaseContactNote, "A contact note for the child's record: file prepared for audit, or quality audited."
)

DISAGREEMENT_RAISED = event_type(
    "audit.hampshire.disagreement.raised", DisagreementRaised,
    "The auditor judged not met standards the team/unit manager said were met, and raises it with them (a task for notify).",
)
DISAGREEMENT_SETTLED = event_type(
    "audit.hampshire.disagreement.settled", DisagreementSettled, "The team/unit manager recorded the outcome of a disagreement the auditor raised.",
)

EVENTS: list[EventType] = [
    FILE_PREPARED, FILES_READY, SELECTION_DELEGATED, FILE_SELECTED, SELECTION_CLOSED, FILE_AUDITED, CASE_CONTACT_NOTE, DISAGREEMENT_RAISED,
    DISAGREEMENT_SETTLED,
]


# --- from domain events to integration events --------------------------------------------------
# What a prepared file recorded, and what the month's lists, delegations and selections did, to the
# integration events they publish, staged in the same transaction as the change (the outbox), in
# the order they happened. A save of a draft publishes nothing (it stays in the file's history).


def _file_subject(file_id: str) -> str:
    return f"hampshire-file/{file_id}"


def _month_subject(month: str, service_manager_id: str) -> str:
    return f"hampshire-month/{month}/{service_manager_id}"


def _integration(e: ev.DomainEvent) -> tuple[EventType, EventData, str] | None:
    """The integration event (type, data, subject) of one domain event; None for what is not published."""
    match e:
        case ev.Prepared(file=f):
            return FILE_PREPARED, carried(FilePrepared, f, e, prepared_by=e.by, prepared_at=e.at), _file_subject(f.file_id)
        case ev.Selected(file=f):
            return FILE_SELECTED, carried(FileSelected, f, e, selected_at=e.at), _file_subject(f.file_id)
        case ev.Audited(file=f):
            return FILE_AUDITED, carried(FileAudited, f, e, auditor_id=e.by, judgements=dict(e.judgements), audited_at=e.at), _file_subject(f.file_id)
        case ev.DisagreementRaised(file=f):
            return DISAGREEMENT_RAISED, carried(DisagreementRaised, f, e, raised_at=e.at), _file_subject(f.file_id)
        case ev.DisagreementSettled(file=f):
            return DISAGREEMENT_SETTLED, carried(DisagreementSettled, f, e, settled_at=e.at), _file_subject(f.file_id)
        case ev.CaseContactNote():
            return CASE_CONTACT_NOTE, carried(CaseContactNote, e, recorded_on=local_date(e.at), recorded_at=e.at), _file_subject(e.file_id)
        case ev.FilesReady():
            teams = [ReadyTeam(team_id=t, file_ids=list(ids)) for t, ids in e.teams]
            return FILES_READY, carried(FilesReady, e, teams=teams, sent_by=e.by, sent_at=e.at), _month_subject(e.month, e.service_manager_id)
        case ev.SelectionDelegated():
            return SELECTION_DELEGATED, carried(SelectionDelegated, e, delegated_at=e.at), f"hampshire-delegation/{e.delegation_id}"
        case ev.SelectionClosed():
            return SELECTION_CLOSED, carried(SelectionClosed, e, closed_by=e.by, closed_at=e.at), _month_subject(e.month, e.service_manager_id)
        case _:
            return None


def record(tx: Transaction, happened: Iterable[ev.DomainEvent]) -> None:
    """Stage the integration events of what happened, in order, in ``tx``."""
    stage(tx, _integration, happened)
