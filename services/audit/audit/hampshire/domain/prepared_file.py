"""Hampshire's monthly prepare-and-select rules, in plain Python (seed 003, sections 2-13).

A *prepared file* is one case file a worker and their supervisor put forward for the month: for
each standard of the quality practice audit tool, the evidence on file (what, when, where), or
that it is missing and what they will do about the gap (7.1), or that the standard does not apply.
When it is ready the service manager is told (8); they, or a competent person they delegate to
(9), select at least one file from each team (10.2) and judge each standard Yes / No / N/A (2.4).
A file not selected keeps its partially completed tool (12.1); an audited one goes to the
performance management unit for collation (12.2). Each file records its history of saves.

Plain values: the API's request bodies (``hampshire.schemas``) hold their limits and descriptions.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from shared.calendar import local_date

from ...case_audit.domain.work import Evidence
from ...common.errors import Gaps, InvalidEntries, NotAllowed, WrongStage
from ...common.roles import QA_STAFF_ROLES, Role
from ...cycles.domain.timetable import Month
from ...tools.domain.definition import ToolDefinition
from .errors import SelectionRefused
from .events import (
    Audited,
    CaseContactNote,
    DisagreementRaised,
    DisagreementSettled,
    FileEvent,
    FileRef,
    FilesReady,
    Prepared,
    Saved,
    Selected,
    SelectionClosed,
    SelectionDelegated,
)

SERVICE_MANAGER_ROLE = Role.SERVICE_MANAGER
#: The performance management unit, who collate the audited files (12.2, 14.3).
PERFORMANCE_MANAGEMENT_ROLE = Role.PERFORMANCE_MANAGEMENT
COLLATION_ROLES = QA_STAFF_ROLES | {PERFORMANCE_MANAGEMENT_ROLE}


def _error(field: str, message: str, **more: Any) -> dict[str, Any]:
    return {"field": field, "message": message, **more}


# --- the tool's standards -----------------------------------------------------------------------


@dataclass(frozen=True)
class Standard:
    """One quality practice standard as the tool version words it, with the judgements it takes."""

    key: str
    text: str
    section: str
    choices: tuple[str, ...]


def standards_of(definition: ToolDefinition) -> list[Standard]:
    """The standards of a quality practice tool: every question that takes an evidence list."""
    standards = [
        Standard(q.key, q.text, s.title, q.scale.choices)
        for s in definition.sections for q in s.questions if q.evidence_list
    ]
    if not standards:
        raise InvalidEntries("This tool takes no evidence list.", [_error("tool_id", "a quality practice tool lists evidence against its standards")])
    return standards


# --- what the worker and supervisor write, and what the auditor writes ---------------------------


@dataclass(frozen=True, kw_only=True)
class StandardPreparation:
    """Column three of the tool for one standard: the evidence, a gap, or not applicable."""

    evidence: list[Evidence] = field(default_factory=list)
    #: The evidence is not on file (7.1): the worker and supervisor record what they will do.
    missing: bool = False
    #: What will be done about the gap (required when missing).
    action: str = ""
    not_applicable: bool = False
    note: str = ""

    @property
    def covered(self) -> bool:
        return bool(self.evidence) or self.not_applicable or (self.missing and bool(self.action.strip()))

    @property
    def mixed(self) -> str | None:
        """Why the entry is not one kind (its evidence, a gap, or not applicable), if it is not."""
        if self.missing and self.evidence:
            return "a standard has its evidence listed or is marked missing, not both"
        if self.not_applicable and (self.evidence or self.missing):
            return "a standard that does not apply has no evidence and no gap"
        return None


@dataclass(frozen=True, kw_only=True)
class Preparation:
    """The partially completed audit tool: evidence per standard and the team/unit manager's comments."""

    standards: dict[str, StandardPreparation] = field(default_factory=dict)
    #: "Team/Unit Manager's Comments / Actions" (5.6): actions to take, good practice to highlight.
    comments: str = ""


@dataclass(frozen=True, kw_only=True)
class Judgement:
    """Column four: does the auditor judge that the standard is met (Yes / No / N/A), and why."""

    value: str
    comment: str = ""


@dataclass(frozen=True, kw_only=True)
class AuditorWork:
    judgements: dict[str, Judgement] = field(default_factory=dict)
    #: "Service Manager's / Auditor's comments about the file overall".
    comments: str = ""


def preparation_errors(standards: list[Standard], preparation: Preparation) -> list[dict[str, Any]]:
    """What in a draft preparation does not fit the tool (a draft may be incomplete, never wrong):
    a standard the tool lacks, an entry both evidenced and missing, or not applicable and more."""
    keys = {s.key for s in standards}
    return [
        _error(f"standards.{k}", "there is no such standard on this file's tool" if k not in keys else str(entry.mixed))
        for k, entry in preparation.standards.items() if k not in keys or entry.mixed
    ]


def preparation_gaps(standards: list[Standard], preparation: Preparation) -> list[dict[str, Any]]:
    """Every standard not yet covered, in tool order: each needs its evidence, a gap and the action
    taken about it, or to be marked not applicable, before the file is ready."""
    found = []
    for s in standards:
        entry = preparation.standards.get(s.key)
        if entry is None or not (entry.evidence or entry.missing or entry.not_applicable):
            found.append(_error(f"standards.{s.key}", f"list the evidence (what, when, where) or say it is missing: {s.text}"))
        elif entry.missing and not entry.action.strip():
            found.append(_error(f"standards.{s.key}.action", "say what you will do about the missing evidence (7.1)"))
    return found


def judgement_errors(standards: list[Standard], work: AuditorWork) -> list[dict[str, Any]]:
    by_key = {s.key: s for s in standards}
    errors = []
    for key, judgement in work.judgements.items():
        standard = by_key.get(key)
        if standard is None:
            errors.append(_error(f"judgements.{key}", "there is no such standard on this file's tool"))
        elif judgement.value not in standard.choices:
            errors.append(_error(f"judgements.{key}", f"the judgement must be one of: {', '.join(standard.choices)}"))
    return errors


def judgement_gaps(standards: list[Standard], preparation: Preparation, work: AuditorWork) -> list[dict[str, Any]]:
    """Every gap that stops the audit being completed: a standard not judged, a standard judged
    met without evidence listed, the overall comments missing."""
    found = []
    for s in standards:
        judgement = work.judgements.get(s.key)
        if judgement is None:
            found.append(_error(f"judgements.{s.key}", f"not judged: {s.text}"))
            continue
        entry = preparation.standards.get(s.key)
        if judgement.value == "yes" and not (entry and entry.evidence):
            found.append(_error(f"judgements.{s.key}", "a standard judged as met needs its evidence listed (what, when, where)"))
    for key in disagreed_standards(standards, preparation, work):
        if not work.judgements[key].comment.strip():
            found.append(_error(
                f"judgements.{key}.comment",
                "the team/unit manager listed evidence as meeting this standard: say why it does not, to raise it with them (10.5)",
            ))
    if not work.comments.strip():
        found.append(_error("comments", "the auditor's comments about the file overall are missing"))
    return found


# --- 10.5: the auditor judges a standard not met that the team/unit manager said was ---------------


def disagreed_standards(standards: list[Standard], preparation: Preparation, work: AuditorWork) -> list[str]:
    """10.5: the standards the team/unit manager decided the evidence meets (the worker and their
    supervisor listed evidence for it) but the auditor judged not met, in tool order."""
    found = []
    for s in standards:
        entry, judgement = preparation.standards.get(s.key), work.judgements.get(s.key)
        if entry is not None and entry.evidence and not entry.missing and judgement is not None and judgement.value == "no":
            found.append(s.key)
    return found


class DisagreementOutcome(StrEnum):
    """What came of the auditor raising it with the team/unit manager. The auditor "has ultimate
    responsibility for the quality of the file": their judgement stands either way."""

    #: The team/unit manager accepts that the evidence does not meet the standard.
    AGREED = "agreed"
    #: The team/unit manager still holds that it does; recorded, the auditor's judgement stands.
    NOT_AGREED = "not_agreed"


@dataclass(frozen=True, kw_only=True)
class Disagreement:
    """10.5: the auditor judged standards not met that the team/unit manager said were met, and
    raised it with them; the team/unit manager records the outcome."""

    standards: tuple[str, ...]
    auditor_id: str
    #: The team/unit manager it is raised with.
    team_manager_id: str
    raised_at: datetime
    outcome: DisagreementOutcome | None = None
    #: What was discussed and agreed (stays in the audit service; never in an event).
    notes: str = ""
    settled_by: str | None = None
    settled_at: datetime | None = None


def check_outcome(outcome: str, notes: str) -> DisagreementOutcome:
    errors = []
    if outcome not in {o.value for o in DisagreementOutcome}:
        errors.append(_error("outcome", f"the outcome must be one of: {', '.join(o.value for o in DisagreementOutcome)}"))
    if not notes.strip():
        errors.append(_error("notes", "say what was discussed with the auditor and what will be done"))
    if errors:
        raise InvalidEntries("The outcome cannot be recorded as given.", errors)
    return DisagreementOutcome(outcome)


# --- the monthly rules --------------------------------------------------------------------------


def previous_month(month: str) -> str:
    return str(Month.parse(month).plus(-1))


@dataclass(frozen=True)
class Timetable:
    """Appendix 5's rolling timetable for the files prepared in one month."""

    list_due_on: date
    audit_due_on: date
    collated_by: date


def timetable(month: str) -> Timetable:
    """Audit list to the service manager by the 5th of the next month, completed audit tools to the
    performance management unit by the 20th, collated by the 1st of the month after."""
    following = Month.parse(month).plus(1).first_day
    return Timetable(following.replace(day=5), following.replace(day=20), Month.parse(month).plus(2).first_day)


def check_different_file(*, case_id: str, last_months_case_id: str | None, month: str) -> None:
    """4.4: a different file each month; the worker may not put forward last month's case again."""
    if last_months_case_id is not None and last_months_case_id == case_id:
        raise InvalidEntries(
            "A different file must be prepared each month.",
            [_error("case_id", f"this worker prepared this case for {previous_month(month)}: choose a different file for {month}")],
        )


#: 12.1: a case prepared is not prepared again "for at least 12 months".
PREPARED_AGAIN_AFTER_MONTHS = 12


def months_before(month: str, count: int = PREPARED_AGAIN_AFTER_MONTHS) -> list[str]:
    """The ``count`` months before ``month``, most recent first."""
    start = Month.parse(month)
    return [str(start.plus(-n)) for n in range(1, count + 1)]


def check_not_prepared_within_a_year(*, case_id: str, month: str, prepared_in: Iterable[str]) -> None:
    """12.1: a case prepared by a supervisor and worker is not prepared again for at least 12 months
    (whichever worker puts it forward, and whether or not it was selected)."""
    recent = sorted(m for m in prepared_in if m in set(months_before(month, PREPARED_AGAIN_AFTER_MONTHS - 1)))
    if recent:
        again = str(Month.parse(recent[-1]).plus(PREPARED_AGAIN_AFTER_MONTHS))
        raise InvalidEntries(
            "This case was prepared for audit in the last 12 months.",
            [_error("case_id", f"this case was prepared for {recent[-1]}: it may be prepared again from {again}")],
        )


def check_delegation(
    *, caller_id: str, caller_roles: Iterable[str], delegate_id: str, delegate_known: bool, team_service_managers: dict[str, str | None]
) -> None:
    """9.1: only the service manager may delegate the audit of their teams to a competent person."""
    if SERVICE_MANAGER_ROLE not in set(caller_roles):
        raise NotAllowed("Only a service manager may delegate the audit to a competent person.")
    unknown = sorted(t for t, sm in team_service_managers.items() if sm is None)
    if unknown:
        raise InvalidEntries("Unknown teams.", [_error("team_ids", f"the directory names no service manager for team {t!r}", code="unknown", team_id=t) for t in unknown])
    not_theirs = sorted(t for t, sm in team_service_managers.items() if sm != caller_id)
    if not_theirs:
        raise NotAllowed(f"Only the service manager of a team may delegate its audit; not yours: {', '.join(not_theirs)}.")
    errors = []
    if delegate_id == caller_id:
        errors.append(_error("delegate_id", "the delegate is a person other than the service manager"))
    elif not delegate_known:
        errors.append(_error("delegate_id", "the directory has no active person with this id"))
    if errors:
        raise InvalidEntries("The delegation cannot be recorded as asked.", errors)


@dataclass(frozen=True)
class Delegation:
    """The service manager chose a competent person to audit a month's files of some teams (9.1)."""

    id: str
    month: str
    service_manager_id: str
    delegate_id: str
    team_ids: tuple[str, ...]
    by: str
    at: datetime

    def covers(self, *, month: str, team_id: str, service_manager_id: str) -> bool:
        return self.month == month and team_id in self.team_ids and self.service_manager_id == service_manager_id


def delegate_selection(
    *, delegation_id: str, month: str, caller_id: str, caller_roles: Iterable[str], delegate_id: str, delegate_known: bool,
    team_service_managers: dict[str, str | None], at: datetime,
) -> tuple[Delegation, SelectionDelegated]:
    """9.1: the service manager delegates the month's audit of some of their teams to a competent person."""
    check_delegation(
        caller_id=caller_id, caller_roles=caller_roles, delegate_id=delegate_id, delegate_known=delegate_known,
        team_service_managers=team_service_managers,
    )
    d = Delegation(
        id=delegation_id, month=month, service_manager_id=caller_id, delegate_id=delegate_id, team_ids=tuple(sorted(team_service_managers)),
        by=caller_id, at=at,
    )
    return d, SelectionDelegated(
        at=at, delegation_id=d.id, month=month, service_manager_id=d.service_manager_id, delegate_id=delegate_id, team_ids=d.team_ids,
    )


def teams_without_selection(files: Iterable[tuple[str, bool]]) -> list[str]:
    """10.2: the teams (of ``(team_id, selected)`` for every file put forward) with no file selected."""
    teams: dict[str, bool] = {}
    for team_id, selected in files:
        teams[team_id] = teams.get(team_id, False) or selected
    return sorted(t for t, chosen in teams.items() if not chosen)


def check_selection_closable(*, service_manager_id: str, files: list[tuple[str, bool, str | None]]) -> None:
    """Closing the month's selection: ``files`` as ``(team_id, selected, auditor_id)`` for every
    file put forward to this service manager. At least one from each team (10.2), and the service
    manager audits at least one themselves (10.3)."""
    if not files:
        raise SelectionRefused("No file is ready for you to select this month.", [_error("files", "no file has been put forward")])
    errors = [
        _error("teams", f"no file selected from team {t}", team_id=t)
        for t in teams_without_selection((team, selected) for team, selected, _ in files)
    ]
    if not any(selected and auditor == service_manager_id for _, selected, auditor in files):
        errors.append(_error("auditor_id", "the service manager audits at least one file themselves (10.3)"))
    if errors:
        raise SelectionRefused("The selection cannot be closed: every team needs a file selected.", errors)


# --- the prepared file --------------------------------------------------------------------------


class FileStatus(StrEnum):
    PREPARING = "preparing"
    READY = "ready"
    SELECTED = "selected"
    AUDITED = "audited"
    #: Not selected when the month's selection closed: keeps its partially completed tool (12.1).
    NOT_SELECTED = "not_selected"


@dataclass
class PreparedFile:
    id: str
    month: str
    case_id: str
    team_id: str
    worker_id: str
    #: The worker's supervisor: their line manager in the directory (2.2).
    supervisor_id: str
    #: The service manager with ultimate responsibility for quality practice (8.1).
    service_manager_id: str
    tool_id: str
    tool_version: int
    standards: list[Standard]
    created_by: str
    created_at: datetime
    version: int = 0
    status: FileStatus = FileStatus.PREPARING
    preparation: Preparation = field(default_factory=Preparation)
    preparation_saves: int = 0
    prepared_by: str | None = None
    prepared_at: datetime | None = None
    #: The list of ready files it was sent to the service manager in.
    ready_list_id: str | None = None
    selected_by: str | None = None
    selected_at: datetime | None = None
    #: Who audits it: the service manager, or the competent person they delegated to.
    auditor_id: str | None = None
    delegation_id: str | None = None
    delegated_by: str | None = None
    work: AuditorWork = field(default_factory=AuditorWork)
    judgement_saves: int = 0
    audited_at: datetime | None = None
    not_selected_at: datetime | None = None
    #: 10.5: raised with the team/unit manager when the auditor judged not met what they said was.
    disagreement: Disagreement | None = None
    updated_by: str | None = None
    updated_at: datetime | None = None
    events: list[FileEvent] = field(default_factory=list, repr=False, compare=False)

    @classmethod
    def start(
        cls, *, file_id: str, month: str, case_id: str, team_id: str, worker_id: str, supervisor_id: str | None,
        service_manager_id: str | None, tool_id: str, tool_version: int, standards: list[Standard], by: str, at: datetime,
    ) -> PreparedFile:
        """The worker, or their supervisor, starts preparing a file for the month."""
        if by not in (worker_id, supervisor_id):
            raise NotAllowed("A file is prepared by the worker or their supervisor.")
        errors = []
        if supervisor_id is None:
            errors.append(_error("worker_id", "the directory names no supervisor (line manager) for this worker"))
        if service_manager_id is None:
            errors.append(_error("worker_id", "the directory names no service manager above this worker's team"))
        if errors:
            raise InvalidEntries("The file cannot be prepared as asked.", errors)
        assert supervisor_id is not None and service_manager_id is not None
        return cls(
            id=file_id, month=month, case_id=case_id, team_id=team_id, worker_id=worker_id, supervisor_id=supervisor_id,
            service_manager_id=service_manager_id, tool_id=tool_id, tool_version=tool_version, standards=standards,
            created_by=by, created_at=at, updated_by=by, updated_at=at,
        )

    # --- who --------------------------------------------------------------------------------

    @property
    def preparers(self) -> tuple[str, str]:
        return (self.worker_id, self.supervisor_id)

    def parties(self) -> list[str]:
        people = [self.worker_id, self.supervisor_id, self.service_manager_id, self.auditor_id]
        if self.disagreement is not None:
            people.append(self.disagreement.team_manager_id)
        return sorted({p for p in people if p})

    def visible_to(self, person_id: str, roles: Iterable[str], delegations: Iterable[Delegation] = ()) -> bool:
        """Its worker, supervisor, service manager and auditor, a competent person delegated this
        team's files for the month (once ready), and QA staff."""
        if person_id in self.parties() or not QA_STAFF_ROLES.isdisjoint(roles):
            return True
        return self.status is not FileStatus.PREPARING and any(
            d.delegate_id == person_id and d.covers(month=self.month, team_id=self.team_id, service_manager_id=self.service_manager_id)
            for d in delegations
        )

    def _touch(self, by: str, at: datetime) -> None:
        self.updated_by, self.updated_at = by, at

    def _ref(self) -> FileRef:
        return FileRef(
            file_id=self.id, month=self.month, case_id=self.case_id, team_id=self.team_id, worker_id=self.worker_id,
            supervisor_id=self.supervisor_id, service_manager_id=self.service_manager_id, tool_id=self.tool_id, tool_version=self.tool_version,
        )

    def _contact_note(self, stage: str, at: datetime) -> CaseContactNote:
        """13.2 / 13.3: the date the file was prepared and by whom; the date it was audited and who
        made the quality practice judgement."""
        by: tuple[str, ...]
        if stage == "prepared":
            by = (self.worker_id, self.supervisor_id)
            note_type = "Quality practice audit: file prepared for audit"
            text = (
                f"File prepared for quality practice audit ({self.month}) on {local_date(at).isoformat()} by worker {self.worker_id}"
                f" and supervisor {self.supervisor_id}."
            )
        else:
            by = (self.auditor_id or "",)
            note_type = "Quality practice audit: file quality audited"
            delegated = f" (delegated by service manager {self.delegated_by})" if self.delegated_by else ""
            text = f"File quality audited ({self.month}) on {local_date(at).isoformat()}; quality practice judgement by {self.auditor_id}{delegated}."
        return CaseContactNote(at=at, file_id=self.id, case_id=self.case_id, stage=stage, note_type=note_type, text=text, by_ids=by)

    # --- preparation ------------------------------------------------------------------------

    def save_preparation(self, *, by: str, preparation: Preparation, at: datetime) -> None:
        if by not in self.preparers:
            raise NotAllowed("Only the worker and their supervisor list the evidence.")
        if self.status is not FileStatus.PREPARING:
            raise WrongStage(f"The file is {self.status.value}: its evidence list is no longer edited.")
        if errors := preparation_errors(self.standards, preparation):
            raise InvalidEntries("The evidence list does not fit the tool.", errors)
        self.preparation = preparation
        self.preparation_saves += 1
        self._touch(by, at)
        self.events.append(Saved(at, "preparation", self.preparation_saves, by, asdict(preparation)))

    def mark_ready(self, *, by: str, at: datetime) -> None:
        """The file is prepared: every standard has its evidence, a gap with an action, or N/A."""
        if by not in self.preparers:
            raise NotAllowed("Only the worker and their supervisor say the file is ready.")
        if self.status is not FileStatus.PREPARING:
            raise WrongStage(f"The file is already {self.status.value}.")
        if gaps := preparation_gaps(self.standards, self.preparation):
            raise Gaps("The file is not ready: every standard needs its evidence, or the gap and what will be done.", gaps)
        self.status = FileStatus.READY
        self.prepared_by, self.prepared_at = by, at
        self._touch(by, at)
        missing = tuple(sorted(k for k, s in self.preparation.standards.items() if s.missing))
        self.events.append(Prepared(at=at, by=by, file=self._ref(), missing_standards=missing))
        self.events.append(self._contact_note("prepared", at))

    def listed(self, list_id: str) -> None:
        self.ready_list_id = list_id

    # --- selection ----------------------------------------------------------------------------

    def select(self, *, by: str, delegation: Delegation | None, at: datetime) -> None:
        """The service manager, or the competent person delegated this team's files, selects the file
        for audit; whoever selects it audits it."""
        if by != self.service_manager_id and not (
            delegation is not None and delegation.delegate_id == by
            and delegation.covers(month=self.month, team_id=self.team_id, service_manager_id=self.service_manager_id)
        ):
            raise NotAllowed("Only the service manager, or a competent person they delegated this team's files to, selects files for audit.")
        if self.status is not FileStatus.READY:
            raise WrongStage(f"Only a file ready for audit can be selected; this one is {self.status.value}.")
        if by in self.preparers:
            raise NotAllowed("The worker or supervisor who prepared a file does not audit it.")
        self.status = FileStatus.SELECTED
        self.selected_by, self.selected_at, self.auditor_id = by, at, by
        if by != self.service_manager_id and delegation is not None:
            self.delegation_id, self.delegated_by = delegation.id, delegation.service_manager_id
        self._touch(by, at)
        self.events.append(Selected(
            at=at, by=by, file=self._ref(), auditor_id=self.auditor_id or by, delegation_id=self.delegation_id, delegated_by=self.delegated_by,
            due_on=timetable(self.month).audit_due_on,
        ))

    def leave_unselected(self, *, by: str, at: datetime) -> None:
        """The selection closed without this file: it keeps its partially completed tool (12.1)."""
        if self.status is FileStatus.READY:
            self.status = FileStatus.NOT_SELECTED
            self.not_selected_at = at
            self._touch(by, at)

    # --- the audit ----------------------------------------------------------------------------

    def _auditing(self, by: str) -> None:
        if self.status is not FileStatus.SELECTED:
            raise WrongStage(f"The file is {self.status.value}: only a selected file is audited.")
        if by != self.auditor_id:
            raise NotAllowed("Only the file's auditor judges the standards.")

    def save_judgements(self, *, by: str, work: AuditorWork, at: datetime) -> None:
        self._auditing(by)
        if errors := judgement_errors(self.standards, work):
            raise InvalidEntries("The judgements do not fit the tool.", errors)
        self.work = work
        self.judgement_saves += 1
        self._touch(by, at)
        self.events.append(Saved(at, "judgements", self.judgement_saves, by, asdict(work)))

    def complete(self, *, by: str, at: datetime, team_manager_id: str | None = None) -> None:
        """The auditor completes the tool. 10.5: where they judged not met a standard the team/unit
        manager (``team_manager_id``, the team's manager; else the worker's supervisor) listed
        evidence for, the completion raises it with them."""
        self._auditing(by)
        if gaps := judgement_gaps(self.standards, self.preparation, self.work):
            raise Gaps("The audit is not complete: every standard needs a judgement.", gaps)
        self.status = FileStatus.AUDITED
        self.audited_at = at
        self._touch(by, at)
        self.events.append(Audited(
            at=at, by=by, file=self._ref(), delegation_id=self.delegation_id, delegated_by=self.delegated_by,
            judgements=tuple((k, j.value) for k, j in self.work.judgements.items()),
        ))
        self.events.append(self._contact_note("audited", at))
        if disagreed := disagreed_standards(self.standards, self.preparation, self.work):
            raised_with = team_manager_id if team_manager_id and team_manager_id != by else self.supervisor_id
            self.disagreement = Disagreement(standards=tuple(disagreed), auditor_id=by, team_manager_id=raised_with, raised_at=at)
            self.events.append(DisagreementRaised(at=at, file=self._ref(), auditor_id=by, team_manager_id=raised_with, standards=tuple(disagreed)))

    def settle_disagreement(self, *, by: str, outcome: str, notes: str, at: datetime) -> None:
        """10.5: the team/unit manager the auditor raised it with records the outcome, once."""
        d = self.disagreement
        if d is None:
            raise WrongStage("No disagreement was raised on this file.")
        if by != d.team_manager_id:
            raise NotAllowed("Only the team/unit manager it was raised with records the outcome.")
        if d.outcome is not None:
            raise WrongStage(f"The outcome was recorded by {d.settled_by}: it is not recorded again.")
        value = check_outcome(outcome, notes)
        self.disagreement = Disagreement(
            standards=d.standards, auditor_id=d.auditor_id, team_manager_id=d.team_manager_id, raised_at=d.raised_at,
            outcome=value, notes=notes.strip(), settled_by=by, settled_at=at,
        )
        self._touch(by, at)
        self.events.append(DisagreementSettled(at=at, file=self._ref(), auditor_id=d.auditor_id, team_manager_id=by, standards=d.standards, outcome=value.value))

    def judgement_counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for judgement in self.work.judgements.values():
            counts[judgement.value] = counts.get(judgement.value, 0) + 1
        return counts


# --- the service manager's month (8, 10) ----------------------------------------------------------


def ready_list(
    files: list[PreparedFile], *, list_id: str, month: str, service_manager_id: str, delegations: Iterable[Delegation], by: str, at: datetime
) -> FilesReady:
    """8.1 / 8.3: the files put in one list for the service manager (each file goes in one list),
    per team; the competent people delegated any of those teams get the list too."""
    teams: dict[str, list[str]] = {}
    for f in files:
        f.listed(list_id)
        teams.setdefault(f.team_id, []).append(f.id)
    delegates = sorted({d.delegate_id for d in delegations if set(d.team_ids) & set(teams)})
    return FilesReady(
        at=at, list_id=list_id, month=month, service_manager_id=service_manager_id,
        teams=tuple((t, tuple(ids)) for t, ids in sorted(teams.items())), file_count=len(files), delegate_ids=tuple(delegates),
        audit_due_on=timetable(month).audit_due_on, by=by,
    )


def close_month_selection(*, month: str, service_manager_id: str, files: list[PreparedFile], at: datetime) -> SelectionClosed:
    """The service manager closes the month's selection over every file put forward to them (ready,
    selected or audited): refused unless every team has a file selected and they audit one
    themselves; the files left unselected keep their partially completed tool (12.1)."""
    check_selection_closable(
        service_manager_id=service_manager_id, files=[(f.team_id, f.status is not FileStatus.READY, f.auditor_id) for f in files]
    )
    selected = [f.id for f in files if f.status is not FileStatus.READY]
    unselected = [f for f in files if f.status is FileStatus.READY]
    for f in unselected:
        f.leave_unselected(by=service_manager_id, at=at)
    return SelectionClosed(
        at=at, month=month, service_manager_id=service_manager_id, selected_file_ids=tuple(selected),
        not_selected_file_ids=tuple(f.id for f in unselected), by=service_manager_id,
    )


# --- collation (12.2, 14.3) ---------------------------------------------------------------------

PUT_FORWARD = (FileStatus.READY, FileStatus.SELECTED, FileStatus.AUDITED, FileStatus.NOT_SELECTED)


def collate(month: str, files: Iterable[PreparedFile]) -> dict[str, Any]:
    """The performance management unit's collation of a month: files prepared, selected and
    audited per team, and the judgements per standard of every audited file."""
    files = list(files)
    audited = [f for f in files if f.status is FileStatus.AUDITED]
    standards: dict[str, dict[str, Any]] = {}
    for f in audited:
        for s in f.standards:
            entry = standards.setdefault(s.key, {"standard": s.key, "text": s.text, "judgements": {c: 0 for c in s.choices}})
            judgement = f.work.judgements.get(s.key)
            if judgement is not None:
                entry["judgements"][judgement.value] = entry["judgements"].get(judgement.value, 0) + 1
    teams: dict[str, dict[str, int]] = {}
    for f in files:
        counts = teams.setdefault(f.team_id, {"in_preparation": 0, "prepared": 0, "selected": 0, "audited": 0, "not_selected": 0})
        if f.status is FileStatus.PREPARING:
            counts["in_preparation"] += 1
            continue
        counts["prepared"] += 1
        counts["selected"] += f.status in (FileStatus.SELECTED, FileStatus.AUDITED)
        counts["audited"] += f.status is FileStatus.AUDITED
        counts["not_selected"] += f.status is FileStatus.NOT_SELECTED
    return {
        "month": month,
        "prepared": sum(t["prepared"] for t in teams.values()),
        "selected": sum(t["selected"] for t in teams.values()),
        "audited": len(audited),
        "teams": [{"team_id": t, **c} for t, c in sorted(teams.items())],
        "standards": [standards[k] for k in sorted(standards)],
        "audits": [
            {
                "file_id": f.id, "case_id": f.case_id, "team_id": f.team_id, "worker_id": f.worker_id, "auditor_id": f.auditor_id,
                "delegated_by": f.delegated_by, "audited_at": f.audited_at,
                "judgements": {k: j.value for k, j in f.work.judgements.items()}, "comments": f.work.comments,
            }
            for f in audited
        ],
    }


# --- 4.1: one file per worker each month ------------------------------------------------------------

#: The case-holding workers who put a file forward each month (4.1).
WORKER_ROLES = frozenset({Role.SOCIAL_WORKER, Role.SENIOR_PRACTITIONER})


@dataclass(frozen=True)
class Worker:
    """A case-holding worker of a team, as the directory names them."""

    worker_id: str
    team_id: str
    supervisor_id: str | None


def workers_without_file(workers: Iterable[Worker], files: Iterable[PreparedFile]) -> list[dict[str, Any]]:
    """4.1 "Each month one file per worker must be selected and put forward for audit": every worker
    with no file put forward this month, by team then worker; ``file_id`` names a file still being
    prepared (started, not yet ready), else null."""
    by_worker = {f.worker_id: f for f in files}
    missing = []
    for w in sorted(workers, key=lambda w: (w.team_id, w.worker_id)):
        f = by_worker.get(w.worker_id)
        if f is None or f.status is FileStatus.PREPARING:
            missing.append({
                "worker_id": w.worker_id, "team_id": w.team_id, "supervisor_id": w.supervisor_id,
                "file_id": f.id if f else None, "status": "in_preparation" if f else "no_file",
            })
    return missing


# --- 14.3: collated monthly, reported quarterly -------------------------------------------------------


def quarter_months(quarter: str) -> list[str]:
    """The three months of a calendar quarter, ``YYYY-Qn``."""
    year, _, number = quarter.partition("-Q")
    if not (year.isdigit() and number in {"1", "2", "3", "4"}):
        raise InvalidEntries("Not a quarter.", [_error("quarter", "a calendar quarter is written YYYY-Qn, e.g. 2026-Q4")])
    first = Month.parse(f"{year}-{(int(number) - 1) * 3 + 1:02d}")
    return [str(first.plus(n)) for n in range(3)]


def quarterly_report(quarter: str, collations: list[dict[str, Any]]) -> dict[str, Any]:
    """14.3 "collate the results received on a monthly basis and report on the results quarterly":
    the quarter's three monthly collations side by side, and the quarter's totals per team and the
    judgements per standard over every file audited in it."""
    months = quarter_months(quarter)
    by_month = {c["month"]: c for c in collations}
    monthly = [
        {"month": m, "prepared": by_month[m]["prepared"], "selected": by_month[m]["selected"], "audited": by_month[m]["audited"]}
        if m in by_month else {"month": m, "prepared": 0, "selected": 0, "audited": 0}
        for m in months
    ]
    teams: dict[str, dict[str, int]] = {}
    standards: dict[str, dict[str, Any]] = {}
    for m in months:
        c = by_month.get(m)
        if c is None:
            continue
        for t in c["teams"]:
            totals = teams.setdefault(t["team_id"], {"prepared": 0, "selected": 0, "audited": 0})
            for k in totals:
                totals[k] += t[k]
        for s in c["standards"]:
            entry = standards.setdefault(s["standard"], {"standard": s["standard"], "text": s["text"], "judgements": {}})
            for value, count in s["judgements"].items():
                entry["judgements"][value] = entry["judgements"].get(value, 0) + count
    for entry in standards.values():
        judged = sum(n for v, n in entry["judgements"].items() if v != "n/a")
        entry["met_percent"] = round(100 * entry["judgements"].get("yes", 0) / judged) if judged else None
    return {
        "quarter": quarter,
        "months": monthly,
        "prepared": sum(m["prepared"] for m in monthly),
        "selected": sum(m["selected"] for m in monthly),
        "audited": sum(m["audited"] for m in monthly),
        "teams": [{"team_id": t, **c} for t, c in sorted(teams.items())],
        "standards": [standards[k] for k in sorted(standards)],
    }
