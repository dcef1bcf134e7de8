"""The wider QA framework (issue 11): what a person must act on becomes a task in their work tray
(with the "task" email), closed by the event that says it was done.

- Hampshire (seed 003): the service manager's list of files ready (8.1), until the month's
  selection is closed; a file selected for its auditor (8.3, 10.1), until it is audited.
- Hillingdon (seed 002): the review of a case graded requires improvement or inadequate, for the
  case's service manager (5.2.2), until reported to the assistant director; a social worker's
  practice observation due, for their line manager (Appendix B: the line manager observes, and
  it is the line manager's appraisal objective), until an observation of them is reported; an
  improvement plan action due, for its owner, until completed; a multi-agency action, for its
  agency's owner, until done; a referral to service development, for the assistant director.

Reader models of the audit service's ``hampshire``, ``hillingdon``, ``practice``,
``team_review`` and ``multi_agency`` events (version 1), tolerant of fields notify does not use.
A multi-agency task names the case only by its code, and only in the task's context: the
subject (and so the email) carries neither the code nor the case (seed 002, Appendix E 6).
"""

from __future__ import annotations

from datetime import date

from pydantic import Field
from shared.consumer import ReceivedEvent

from ..domain.effects import CloseTasks, Effects
from ..domain.kinds import TaskKind
from ..domain.tasks import Link, TaskStatus
from .base import Mapping, People, Reader, audit_event, closes, context, pure, task

# --- Hampshire ------------------------------------------------------------------------------------


class ReadyTeam(Reader):
    team_id: str
    file_ids: list[str] = Field(default_factory=list)


class FilesReady(Reader):
    list_id: str
    month: str
    service_manager_id: str
    teams: list[ReadyTeam] = Field(default_factory=list)
    file_count: int | None = None
    audit_due_on: date | None = None


class SelectionClosed(Reader):
    month: str
    service_manager_id: str
    closed_by: str | None = None


class FileSelected(Reader):
    file_id: str
    month: str
    team_id: str | None = None
    service_manager_id: str | None = None
    auditor_id: str
    delegated_by: str | None = None
    due_on: date | None = None

    def due(self) -> date | None:
        """Completed audit tools go to the performance management unit by the 20th of the next
        month (seed 003, Appendix 5) unless the event says otherwise."""
        if self.due_on is not None:
            return self.due_on
        try:
            year, month = (int(p) for p in self.month.split("-"))
        except ValueError:
            return None
        if not 1 <= month <= 12:
            return None
        return date(year + month // 12, month % 12 + 1, 20)


class FileAudited(Reader):
    file_id: str
    auditor_id: str | None = None


# --- Hillingdon: practice reviews, observations --------------------------------------------------


class PracticeReviewOpened(Reader):
    review_id: str
    audit_id: str
    grade: str
    month: str | None = None
    team_id: str | None = None
    service_manager_id: str | None = None
    assistant_director_id: str | None = None


class PracticeReviewReassigned(PracticeReviewOpened):
    service_manager_changed: bool = False
    reassigned_by: str | None = None


class PracticeReviewReported(Reader):
    review_id: str
    service_manager_id: str | None = None


class ObservationDue(Reader):
    social_worker_id: str
    line_manager_id: str | None = None
    team_id: str | None = None
    due_on: date
    last_observed_on: date | None = None
    overdue: bool = False


class ObservationReported(Reader):
    observation_id: str
    social_worker_id: str
    observer_id: str | None = None
    #: A revision of a report already given: the observation it reports closed the reminder then.
    revised: bool = False


# --- the six-monthly team review -------------------------------------------------------------------


class _ImprovementAction(Reader):
    """An action of a team review's improvement plan: the review's id and the action's number."""

    review_id: str
    action_number: int


class ImprovementActionDue(_ImprovementAction):
    team_id: str | None = None
    owner_id: str
    due_on: date | None = None


class ImprovementActionCompleted(_ImprovementAction):
    completed_by: str | None = None


class ImprovementActionDropped(_ImprovementAction):
    dropped_by: str | None = None


class ServiceDevelopmentReferred(_ImprovementAction):
    """The action's need for support, referred beyond the team."""

    team_id: str
    assistant_director_id: str | None = None
    referred_by: str | None = None


# --- multi-agency audits -----------------------------------------------------------------------------


class _MultiAgencyAction(Reader):
    """An action of a multi-agency audit's action plan."""

    audit_id: str
    action_id: str


class ActionAssigned(_MultiAgencyAction):
    #: The case's code: never its id nor the child's name.
    case_ref: str | None = None
    agency: str | None = None
    owner_id: str
    due_on: date | None = None
    action_path: str | None = None
    assigned_by: str | None = None


class ActionCompleted(_MultiAgencyAction):
    completed_by: str | None = None




FILES_READY = audit_event("audit.hampshire.files.ready", FilesReady, "The service manager's list of files ready for audit.")
SELECTION_CLOSED = audit_event("audit.hampshire.selection.closed", SelectionClosed, "A service manager closed the month's selection.")
FILE_SELECTED = audit_event("audit.hampshire.file.selected", FileSelected, "A prepared file was selected for audit.")
FILE_AUDITED = audit_event("audit.hampshire.file.audited", FileAudited, "A file's quality practice audit was completed.")
PRACTICE_REVIEW_OPENED = audit_event("audit.practice-review.opened", PracticeReviewOpened, "A case graded RI or inadequate is to be reviewed.")
PRACTICE_REVIEW_REASSIGNED = audit_event(
    "audit.practice-review.reassigned", PracticeReviewReassigned, "QA staff named a practice review's service manager or assistant director."
)
PRACTICE_REVIEW_REPORTED = audit_event("audit.practice-review.reported", PracticeReviewReported, "A practice review was reported.")
OBSERVATION_DUE = audit_event("audit.observation.due", ObservationDue, "A social worker's next practice observation is due.")
OBSERVATION_REPORTED = audit_event("audit.observation.reported", ObservationReported, "An observation report was written or revised.")
IMPROVEMENT_ACTION_DUE = audit_event("audit.improvement-action.due", ImprovementActionDue, "An improvement plan action is due, unfinished.")
IMPROVEMENT_ACTION_COMPLETED = audit_event("audit.improvement-action.completed", ImprovementActionCompleted, "An improvement plan action was completed.")
IMPROVEMENT_ACTION_DROPPED = audit_event("audit.improvement-action.dropped", ImprovementActionDropped, "An improvement plan action was dropped.")
SERVICE_DEVELOPMENT_REFERRED = audit_event("audit.service-development.referred", ServiceDevelopmentReferred, "A need referred to service development.")
ACTION_ASSIGNED = audit_event("audit.multi-agency.action.assigned", ActionAssigned, "A multi-agency action was assigned to its owner.")
ACTION_COMPLETED = audit_event("audit.multi-agency.action.completed", ActionCompleted, "A multi-agency action was done.")


# --- the keys a task waits on ------------------------------------------------------------------------


def selection_key(month: str, service_manager_id: str) -> str:
    return f"audit:hampshire-month/{month}/{service_manager_id}:selection"


def file_key(file_id: str) -> str:
    return f"audit:hampshire-file/{file_id}:audit"


def practice_review_key(review_id: str) -> str:
    return f"audit:practice-review/{review_id}:report"


def observation_key(social_worker_id: str) -> str:
    return f"audit:social-worker/{social_worker_id}:observation"


def improvement_action_key(review_id: str, action_number: int) -> str:
    return f"audit:team-review/{review_id}/action/{action_number}"


def multi_agency_action_key(audit_id: str, action_id: str) -> str:
    return f"audit:multi-agency/{audit_id}/action/{action_id}"


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


# --- Hampshire ------------------------------------------------------------------------------------


def files_ready(event: ReceivedEvent) -> Effects:
    r: FilesReady = event.data
    count = r.file_count if r.file_count is not None else sum(len(t.file_ids) for t in r.teams)
    return Effects(open=[task(
        r.service_manager_id, TaskKind.HAMPSHIRE_FILES_READY,
        subject=f"{_plural(count, 'file')} from {_plural(len(r.teams), 'team')} ready for audit for {r.month}",
        action="Select at least one file from each team for audit (and audit at least one yourself), then close the month's selection",
        link=Link("audit", f"/hampshire/months/{r.month}"),
        due_on=r.audit_due_on,
        closes_on=selection_key(r.month, r.service_manager_id),
        context=context(r, "month", "list_id", team_ids=",".join(t.team_id for t in r.teams), file_count=str(count)),
    )])


def file_selected(event: ReceivedEvent) -> Effects:
    f: FileSelected = event.data
    # Someone else's choice when a delegate audits for the service manager, or the service manager chose the auditor.
    assigned_by = f.delegated_by or (f.service_manager_id if f.service_manager_id and f.service_manager_id != f.auditor_id else None)
    return Effects(open=[task(
        f.auditor_id, TaskKind.HAMPSHIRE_FILE_AUDIT,
        subject=f"Audit prepared file {f.file_id} for {f.month}",
        action="Judge each standard of the prepared audit tool (Yes / No / N/A), comment, and complete the audit",
        link=Link("audit", f"/hampshire/files/{f.file_id}"),
        assigned_by=assigned_by, due_on=f.due(), closes_on=file_key(f.file_id), context=context(f, "file_id", "month", "team_id"),
    )])


# --- Hillingdon ------------------------------------------------------------------------------------


def practice_review_opened(event: ReceivedEvent) -> Effects:
    p: PracticeReviewOpened = event.data
    if not p.service_manager_id:
        return Effects()  # nobody to tell yet: QA staff name the service manager in the audit service
    return Effects(open=[task(
        p.service_manager_id, TaskKind.PRACTICE_REVIEW,
        subject=f"Review audit {p.audit_id}, graded {p.grade.replace('_', ' ')}",
        action="Review the case with the auditor, record the outcome and actions taken, and report them to the assistant director",
        link=Link("audit", f"/hillingdon/reviews/{p.review_id}"),
        closes_on=practice_review_key(p.review_id), context=context(p, "review_id", "audit_id", "grade", "month"),
    )])


def practice_review_reassigned(event: ReceivedEvent) -> Effects:
    """The review is now another service manager's: the previous one's task is withdrawn and the
    new one is given it (a change of assistant director alone changes no task)."""
    p: PracticeReviewReassigned = event.data
    if not p.service_manager_changed:
        return Effects()
    effects = practice_review_opened(event)
    effects.close.append(CloseTasks(practice_review_key(p.review_id), TaskStatus.CANCELLED, "review given to another service manager", p.reassigned_by))
    return effects


async def observation_due(event: ReceivedEvent, people: People) -> Effects:
    """To the social worker's line manager: the event's, else the one notify's directory knows."""
    o: ObservationDue = event.data
    manager = o.line_manager_id or await people.line_manager_of(o.social_worker_id)
    if not manager:
        return Effects()
    # One event per social worker and due date; a later due date needs an observation reported first.
    return Effects(open=[task(
        manager, TaskKind.OBSERVATION_DUE,
        subject=f"Practice observation of social worker {o.social_worker_id} " + ("overdue" if o.overdue else "due"),
        action="Agree and plan a direct observation of the social worker's practice (at least two a year), then report it",
        link=Link("audit", f"/observations?social_worker_id={o.social_worker_id}"),
        due_on=o.due_on, closes_on=observation_key(o.social_worker_id), context=context(o, "social_worker_id", "due_on", "last_observed_on"),
    )])


def observation_reported(event: ReceivedEvent) -> Effects:
    o: ObservationReported = event.data
    if o.revised:
        return Effects()
    return Effects(close=[CloseTasks(observation_key(o.social_worker_id), TaskStatus.DONE, "observation reported", o.observer_id)])


def improvement_action_due(event: ReceivedEvent) -> Effects:
    a: ImprovementActionDue = event.data
    # One event per action (its due date is set when it is added and never moves).
    return Effects(open=[task(
        a.owner_id, TaskKind.IMPROVEMENT_ACTION,
        subject=f"Improvement plan action {a.action_number} of team review {a.review_id} is due",
        action="Complete the action of the team's improvement plan and mark it completed",
        link=Link("audit", f"/team-reviews/{a.review_id}/actions/{a.action_number}"),  # the owner reads their action, not the pack
        due_on=a.due_on, closes_on=improvement_action_key(a.review_id, a.action_number),
        context=context(a, "review_id", "action_number", "team_id"),
    )])


def service_development_referred(event: ReceivedEvent) -> Effects:
    r: ServiceDevelopmentReferred = event.data
    if not r.assistant_director_id:
        return Effects()
    return Effects(open=[task(
        r.assistant_director_id, TaskKind.SERVICE_DEVELOPMENT_REFERRAL,
        subject=f"Team {r.team_id}'s review refers a need for support to service development",
        action="Discuss the need with the service manager; agreed changes go into the Service Plan, signed off by CMT",
        link=Link("audit", f"/team-reviews/{r.review_id}"),
        assigned_by=r.referred_by, context=context(r, "review_id", "team_id", "action_number"),
    )])


# --- multi-agency audits -----------------------------------------------------------------------------


def multi_agency_action_assigned(event: ReceivedEvent) -> Effects:
    a: ActionAssigned = event.data
    path = (a.action_path or f"/v1/multi-agency/audits/{a.audit_id}").removeprefix("/v1")
    return Effects(open=[task(
        a.owner_id, TaskKind.MULTI_AGENCY_ACTION,
        subject=f"Action of multi-agency audit {a.audit_id}" + (f" for {a.agency}" if a.agency else ""),
        action="Carry out the action your agency owns in the multi-agency action plan and mark it done",
        link=Link("audit", path),
        assigned_by=a.assigned_by, due_on=a.due_on, closes_on=multi_agency_action_key(a.audit_id, a.action_id),
        context=context(a, "audit_id", "action_id", "agency", case_code=a.case_ref or None),
    )])


MAPPINGS = [
    Mapping(FILES_READY, pure(files_ready)),
    closes(SELECTION_CLOSED, lambda c: selection_key(c.month, c.service_manager_id), "selection closed", by="closed_by"),
    Mapping(FILE_SELECTED, pure(file_selected)),
    closes(FILE_AUDITED, lambda a: file_key(a.file_id), "file audited", by="auditor_id"),
    Mapping(PRACTICE_REVIEW_OPENED, pure(practice_review_opened)),
    Mapping(PRACTICE_REVIEW_REASSIGNED, pure(practice_review_reassigned)),
    closes(PRACTICE_REVIEW_REPORTED, lambda p: practice_review_key(p.review_id), "reported to the assistant director", by="service_manager_id"),
    Mapping(OBSERVATION_DUE, observation_due),
    Mapping(OBSERVATION_REPORTED, pure(observation_reported)),
    Mapping(IMPROVEMENT_ACTION_DUE, pure(improvement_action_due)),
    closes(IMPROVEMENT_ACTION_COMPLETED, lambda a: improvement_action_key(a.review_id, a.action_number), "action completed", by="completed_by"),
    closes(IMPROVEMENT_ACTION_DROPPED, lambda a: improvement_action_key(a.review_id, a.action_number), "action dropped", by="dropped_by",
           outcome=TaskStatus.CANCELLED),
    Mapping(SERVICE_DEVELOPMENT_REFERRED, pure(service_development_referred)),
    Mapping(ACTION_ASSIGNED, pure(multi_agency_action_assigned)),
    closes(ACTION_COMPLETED, lambda a: multi_agency_action_key(a.audit_id, a.action_id), "action done", by="completed_by"),
]
