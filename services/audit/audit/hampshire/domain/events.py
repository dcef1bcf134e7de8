"""Domain events of Hampshire's month, in plain Python: what a prepared file recorded as it changed
(``PreparedFile.events``), and what the month's lists, delegations and selections did. Each
carries the facts it reports, so ``hampshire.events.record`` turns it into its integration event
without reading anything else."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from ...common.events import DomainEvent


@dataclass(frozen=True)
class FileRef:
    """The prepared file an event is about: its case, team and people, and the tool it is on."""

    file_id: str
    month: str
    case_id: str
    team_id: str
    worker_id: str
    supervisor_id: str
    service_manager_id: str
    tool_id: str
    tool_version: int


# --- recorded by a prepared file ----------------------------------------------------------------


class FileEvent(DomainEvent):
    """Something a prepared file recorded in one change."""


class Saved(FileEvent):
    """A save of the preparation or of the judgements, kept in the file's history."""

    part: str
    number: int
    by: str
    content: dict


class Prepared(FileEvent):
    """The worker or supervisor said the file is ready for audit."""

    by: str
    file: FileRef
    #: Standards whose evidence is missing (7.1), by key, sorted.
    missing_standards: tuple[str, ...]


class Selected(FileEvent):
    """The service manager, or their delegate, selected the file; whoever selected it audits it."""

    by: str
    file: FileRef
    auditor_id: str
    delegation_id: str | None
    delegated_by: str | None
    #: When the completed tool is due to the performance management unit (Appendix 5).
    due_on: date


class Audited(FileEvent):
    """The auditor completed the file's quality practice audit."""

    by: str
    file: FileRef
    delegation_id: str | None
    delegated_by: str | None
    #: The judgement per standard key (``yes``, ``no``, ``n/a``), in the order they were given.
    judgements: tuple[tuple[str, str], ...]


class DisagreementRaised(FileEvent):
    """10.5: the auditor judged not met standards the team/unit manager said were met, and
    raises it with the team/unit manager."""

    file: FileRef
    auditor_id: str
    team_manager_id: str
    #: The standards in question, by key, in tool order.
    standards: tuple[str, ...]


class DisagreementSettled(FileEvent):
    """10.5: the team/unit manager recorded the outcome of the disagreement."""

    file: FileRef
    auditor_id: str
    team_manager_id: str
    standards: tuple[str, ...]
    #: ``agreed`` or ``not_agreed`` (the auditor's judgement stands either way).
    outcome: str


class CaseContactNote(FileEvent):
    """13.2 / 13.3: a contact note is due on the child's record: the file was prepared (when, by
    whom) or quality audited (when, who judged)."""

    file_id: str
    case_id: str
    #: ``prepared`` or ``audited``.
    stage: str
    note_type: str
    text: str
    by_ids: tuple[str, ...]


# --- the month ------------------------------------------------------------------------------------


class FilesReady(DomainEvent):
    """A service manager's list of the files that became ready since their last list (8.1, 8.3)."""

    list_id: str
    month: str
    service_manager_id: str
    #: ``(team_id, file ids)`` per team, by team.
    teams: tuple[tuple[str, tuple[str, ...]], ...]
    file_count: int
    #: The competent people delegated some of these teams (8.3: they get the tools too).
    delegate_ids: tuple[str, ...]
    audit_due_on: date
    by: str


class SelectionDelegated(DomainEvent):
    """A service manager delegated the month's audit of some of their teams to a competent person (9.1)."""

    delegation_id: str
    month: str
    service_manager_id: str
    delegate_id: str
    team_ids: tuple[str, ...]


class SelectionClosed(DomainEvent):
    """A service manager closed the month's selection; the files not selected keep their partial tool (12.1)."""

    month: str
    service_manager_id: str
    selected_file_ids: tuple[str, ...]
    not_selected_file_ids: tuple[str, ...]
    by: str
