"""A multi-agency audit (Hillingdon QAF 5.4 and Appendix E), after its case audit is allocated.

The HSCB's Quality Assurance Sub-committee audits cases with partners using a bespoke tool for
each audit; the child is known by a code to all but the auditor(s) and the coordinator. The audit
is triangulated with consultation of the child, the parents (or carers), the social worker and the
team manager; a multi-agency meeting chaired by the Lead QA Auditor agrees the findings with the
partners present and grades on the Ofsted scale; an action plan for all the agencies, with an owner
per agency, is tracked to completion and reported to the QA sub-committee: progress reports while
actions are open ("monitored through the Quality Assurance Sub-committee", 5.4.3; "track and
report ... over an agreed period of time i.e. 6/12 months", Appendix E 5), and one completion report
once every action is done, which closes the plan. Each partner agency's lead auditor had no casework
involvement with the case (Appendix E 1): checked against the case's allocation where the directory
knows them, declared by each before the meeting, replaced with the history kept. A case may belong
to a baseline of eight to ten cases (``domain.baseline``).

Plain Python: the aggregate checks the rules, changes its state and records domain events in
``events``; its version number is its ETag. The values people write (partners, consultation,
meeting, plan, bespoke tool) are plain too: the API's request bodies (``multi_agency.schemas``)
hold their limits and descriptions. Nothing written is lost: a revised consultation keeps
its earlier revisions, every action keeps the history of its status changes.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from shared.calendar import local_date

from ...common.errors import Gaps, InvalidEntries, NotAllowed, WrongStage
from ...common.grades import Grade
from ...common.roles import QA_STAFF_ROLES, Role
from ...tools.domain.definition import ProgrammeKind, Section, ToolDefinition
from .errors import NoSuchAction
from .events import (
    ActionAssigned,
    ActionCompleted,
    ActionStatusChanged,
    ConsultationRecorded,
    DomainEvent,
    MeetingHeld,
    PlanReported,
)

#: The role that chairs the multi-agency meeting (5.4.2).
CHAIR_ROLE = Role.LEAD_QA_AUDITOR
#: The Ofsted grading system the meeting grades with (5.4.2): no "critical" variant here.
MEETING_GRADES = (Grade.OUTSTANDING, Grade.GOOD, Grade.REQUIRES_IMPROVEMENT, Grade.INADEQUATE)


class ConsultedParty(StrEnum):
    """Whose views triangulate the findings (5.4.1; Appendix E 7)."""

    CHILD = "child"
    PARENT_CARER = "parent_carer"
    SOCIAL_WORKER = "social_worker"
    TEAM_MANAGER = "team_manager"


class ActionStatus(StrEnum):
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    DONE = "done"


class ReportKind(StrEnum):
    #: While actions are open: how the plan stands (the sub-committee monitors it).
    PROGRESS = "progress"
    #: Every action done: the plan is reported complete and closed.
    COMPLETION = "completion"


class Stage(StrEnum):
    """Where a multi-agency audit stands (derived from what has been recorded)."""

    CONSULTATION = "consultation"
    ACTION_PLAN = "action_plan"
    ACTIONS = "actions"
    COMPLETE = "complete"
    REPORTED = "reported"


@dataclass(frozen=True, kw_only=True)
class Partner:
    """An agency taking part, with its named representative (its lead auditor or manager)."""

    #: e.g. health, police, education.
    agency: str
    #: The agency as people call it, e.g. 'Hillingdon Hospital'.
    name: str
    representative_id: str


@dataclass(frozen=True, kw_only=True)
class ConsultationInput:
    """One party's views on the impact of the work, or why they could not be obtained."""

    obtained: bool = True
    #: How: a visit by the participation worker, a call by the QA officer, a discussion, a questionnaire.
    method: str
    held_on: date
    views: str = ""
    reason_not_obtained: str = ""


@dataclass(frozen=True, kw_only=True)
class Attendee:
    """Someone at the meeting other than the partners' representatives."""

    #: social_worker, team_manager, reviewing_team, development_worker, ...
    role: str
    person_id: str


@dataclass(frozen=True, kw_only=True)
class MeetingInput:
    held_on: date
    #: The agencies whose representatives attended (each a partner of the audit).
    partners_present: list[str]
    others_present: list[Attendee] = field(default_factory=list)
    findings: str
    agreed_grade: Grade


@dataclass(frozen=True, kw_only=True)
class ActionInput:
    agency: str
    action: str
    due_on: date


@dataclass(frozen=True, kw_only=True)
class PlanInput:
    """The multi-agency action plan: an owner per agency, and the agencies' actions."""

    owners: dict[str, str]
    actions: list[ActionInput]


@dataclass(frozen=True, kw_only=True)
class BespokeTool:
    """The audit group's tool for this audit: the base multi-agency tool with its own sections
    (their keys unique across the tool, as every tool's are)."""

    base_tool_id: str = "multi-agency"
    #: None: the base tool's latest version.
    base_version: int | None = None
    #: Sections added for this audit's theme.
    sections: list[Section] = field(default_factory=list)


def _error(field_name: str, message: str) -> dict[str, Any]:
    return {"field": field_name, "message": message}


# --- the lead auditors' independence (Appendix E 1) ----------------------------------------------

#: What each agency's lead auditor declares for the case (Appendix E 1: "Each agency would need to
#: appoint a lead practitioner or manager from that agency who had not case work involvement or
#: responsibility for the cases being audited to carry out the audit").
NO_INVOLVEMENT = "I have had no casework involvement with, or responsibility for, the case being audited."


@dataclass(frozen=True, kw_only=True)
class CaseAllocation:
    """What the audit service's directory knows of who works the case: its allocated worker, its team
    manager and its team's manager (the authority's own staff only; partner agencies' staff are not in it)."""

    allocated_worker_id: str | None = None
    team_manager_id: str | None = None
    team_manager_of_team_id: str | None = None

    def involvement_of(self, person_id: str) -> list[str]:
        """Why ``person_id`` had casework involvement with or responsibility for the case (empty: none known)."""
        reasons = []
        if person_id == self.allocated_worker_id:
            reasons.append("the case's allocated worker")
        if person_id == self.team_manager_id:
            reasons.append("the case's team manager")
        if person_id == self.team_manager_of_team_id and person_id != self.team_manager_id:
            reasons.append("the manager of the case's team")
        return reasons


def independence_errors(allocation: CaseAllocation, named: list[tuple[str, str]]) -> list[dict[str, Any]]:
    """One error per (field, person) the directory shows involved with the case."""
    return [
        _error(where, f"{person_id} is {' and '.join(reasons)}: the audit is carried out by someone who had no casework involvement with or responsibility for the case")
        for where, person_id in named
        if (reasons := allocation.involvement_of(person_id))
    ]


@dataclass
class Declaration:
    """A lead auditor's declaration of no casework involvement with the case, as recorded."""

    agency: str
    person_id: str
    statement: str
    #: The lead auditor, or the coordinator recording the agency's written declaration.
    by: str
    at: datetime


@dataclass
class LeadAuditorChange:
    """An agency's lead auditor replaced ("can be replaced or alternated as the year progresses")."""

    agency: str
    previous_id: str
    new_id: str
    reason: str
    by: str
    at: datetime


def bespoke_tool_id(audit_id: str) -> str:
    """One tool per audit, so its questions never become another audit's latest version."""
    return f"multi-agency-{audit_id.lower()}"


def bespoke_definition(base: ToolDefinition, *, theme: str, tool: BespokeTool) -> ToolDefinition:
    """Version 1 of this audit's tool: the base tool's sections and the audit group's own.

    The case stays coded whatever the base says; the stage 1 action plan is dropped, because the
    actions are agreed for all the agencies at the meeting (the multi-agency action plan).
    """
    if base.programme is not ProgrammeKind.MULTI_AGENCY:
        raise InvalidEntries("The base tool is not a multi-agency tool.", [_error("tool.base_tool_id", f"a {base.programme.value} tool")])
    try:
        return replace(
            base, title=f"{base.title}: {theme}"[:200], sections=[*base.sections, *tool.sections], coded_case=True, action_plan_for_grades=[],
        )
    except ValueError as exc:
        # The same words as the API's answer to a tool breaking these rules.
        raise InvalidEntries("The bespoke tool does not fit with its base tool.", [_error("tool.sections", f"Value error, {exc}")]) from None


# --- the aggregate's parts -----------------------------------------------------------------------


@dataclass
class ConsultationRevision:
    revision: int
    input: ConsultationInput
    by: str
    at: datetime


@dataclass
class Consultation:
    party: ConsultedParty
    input: ConsultationInput
    revision: int
    by: str
    at: datetime
    #: Earlier revisions, oldest first.
    history: list[ConsultationRevision] = field(default_factory=list)


@dataclass
class Meeting:
    chair_id: str
    held_on: date
    partners_present: list[str]
    #: The partners' representatives who attended (with the agreed grade, they agreed the findings).
    representatives_present: list[str]
    others_present: list[Attendee]
    findings: str
    agreed_grade: Grade
    recorded_at: datetime


@dataclass
class StatusChange:
    status: ActionStatus
    note: str
    by: str
    at: datetime


@dataclass
class Action:
    id: str
    agency: str
    owner_id: str
    action: str
    due_on: date
    status: ActionStatus = ActionStatus.OPEN
    #: Every status the action has had, first ``open`` at assignment.
    history: list[StatusChange] = field(default_factory=list)

    @property
    def done(self) -> bool:
        return self.status is ActionStatus.DONE


@dataclass
class ActionPlan:
    owners: dict[str, str]
    actions: list[Action]
    agreed_by: str
    agreed_at: datetime

    @property
    def complete(self) -> bool:
        """Complete only when every action is done."""
        return all(a.done for a in self.actions)

    def by_agency(self) -> list[tuple[str, str, int, int]]:
        """(agency, owner, actions, done) for every agency of the plan."""
        return [
            (agency, owner, sum(1 for a in self.actions if a.agency == agency), sum(1 for a in self.actions if a.agency == agency and a.done))
            for agency, owner in sorted(self.owners.items())
        ]


@dataclass
class Report:
    number: int
    kind: ReportKind
    summary: str
    by: str
    at: datetime
    actions_total: int
    actions_done: int
    #: The report as a PDF for the sub-committee's papers.
    pdf_id: str | None = None


# --- the aggregate -------------------------------------------------------------------------------


@dataclass
class MultiAgencyAudit:
    """Keyed by the id of its case audit (``audits``), which holds the case and the auditor's tool."""

    id: str
    tool_id: str
    tool_version: int
    #: The case's code; the case id is on the case audit, shown only to the auditor and coordinator.
    case_ref: str
    theme: str
    auditor_id: str
    coordinator_id: str
    partners: list[Partner]
    #: The participation worker and QA officer who see the child and the parents (Appendix E 7).
    consultation_worker_ids: list[str]
    created_by: str
    created_at: datetime
    version: int = 0
    consultations: dict[str, Consultation] = field(default_factory=dict)
    meeting: Meeting | None = None
    plan: ActionPlan | None = None
    reports: list[Report] = field(default_factory=list)
    updated_by: str | None = None
    updated_at: datetime | None = None
    #: The baseline audit (eight to ten cases) this case belongs to, if any.
    baseline_id: str | None = None
    #: The lead auditors the directory knew when they were named (the authority's own staff), checked
    #: against the case's allocation; the others are partner agencies' staff, known only by their declaration.
    directory_checked: list[str] = field(default_factory=list)
    #: Every declaration of no casework involvement, replaced lead auditors' included.
    declarations: list[Declaration] = field(default_factory=list)
    lead_auditor_changes: list[LeadAuditorChange] = field(default_factory=list)
    events: list[DomainEvent] = field(default_factory=list, repr=False, compare=False)

    @classmethod
    def set_up(
        cls, *, audit_id: str, tool_id: str, tool_version: int, case_ref: str, theme: str, auditor_id: str, coordinator_id: str,
        partners: list[Partner], consultation_worker_ids: list[str], by: str, at: datetime,
        allocation: CaseAllocation | None = None, known_to_directory: frozenset[str] = frozenset(), baseline_id: str | None = None,
    ) -> MultiAgencyAudit:
        """``allocation``: the case's allocation in the directory; every lead auditor and the auditor are
        checked against it (None only where no directory is at hand, in tests of other rules)."""
        errors = []
        agencies = [p.agency for p in partners]
        if not partners:
            errors.append(_error("partners", "a multi-agency audit needs its partner agencies"))
        for agency in sorted({a for a in agencies if agencies.count(a) > 1}):
            errors.append(_error("partners", f"the agency {agency!r} is listed twice"))
        if not theme.strip():
            errors.append(_error("theme", "the audit's theme (its key line of enquiry) is missing"))
        if errors:
            raise InvalidEntries("The multi-agency audit cannot be set up as asked.", errors)
        if allocation is not None:
            named = [("auditor_id", auditor_id), *((f"partners.{n}.representative_id", p.representative_id) for n, p in enumerate(partners))]
            involved = independence_errors(allocation, named)
            if involved:
                raise InvalidEntries("A lead auditor (or the auditor) had casework involvement with the case.", involved)
        people = {p.representative_id for p in partners}
        return cls(
            id=audit_id, tool_id=tool_id, tool_version=tool_version, case_ref=case_ref, theme=theme.strip(), auditor_id=auditor_id,
            coordinator_id=coordinator_id, partners=list(partners), consultation_worker_ids=sorted(set(consultation_worker_ids)),
            created_by=by, created_at=at, updated_by=by, updated_at=at, baseline_id=baseline_id,
            directory_checked=sorted(people & known_to_directory) if allocation is not None else [],
        )

    # --- who may see what ----------------------------------------------------------------------

    def party_roles(self, person_id: str) -> set[str]:
        roles: set[str] = set()
        if person_id == self.auditor_id:
            roles.add(Role.AUDITOR)
        if person_id == self.coordinator_id:
            roles.add("coordinator")
        if any(p.representative_id == person_id for p in self.partners):
            roles.add("partner_representative")
        if person_id in self.consultation_worker_ids:
            roles.add("consultation_worker")
        if self.meeting and person_id == self.meeting.chair_id:
            roles.add("chair")
        if self.meeting and any(a.person_id == person_id for a in self.meeting.others_present):
            roles.add("meeting_attendee")
        if self.plan and any(a.owner_id == person_id for a in self.plan.actions):
            roles.add("action_owner")
        return roles

    def visible_to(self, person_id: str, roles: frozenset[str] | set[str]) -> bool:
        return bool(self.party_roles(person_id)) or not QA_STAFF_ROLES.isdisjoint(roles)

    def viewers(self) -> list[str]:
        people = [self.auditor_id, self.coordinator_id, *(p.representative_id for p in self.partners), *self.consultation_worker_ids]
        if self.meeting:
            people += [self.meeting.chair_id, *(a.person_id for a in self.meeting.others_present)]
        if self.plan:
            people += [a.owner_id for a in self.plan.actions]
        return sorted(set(people))

    @property
    def stage(self) -> Stage:
        if any(r.kind is ReportKind.COMPLETION for r in self.reports):
            return Stage.REPORTED
        if self.plan is not None:
            return Stage.COMPLETE if self.plan.complete else Stage.ACTIONS
        return Stage.ACTION_PLAN if self.meeting is not None else Stage.CONSULTATION

    def partner(self, agency: str) -> Partner | None:
        return next((p for p in self.partners if p.agency == agency), None)

    # --- the lead auditors: no casework involvement (Appendix E 1) ------------------------------

    def declaration_of(self, partner: Partner) -> Declaration | None:
        """The declaration of the agency's current lead auditor, if made."""
        return next((d for d in self.declarations if d.agency == partner.agency and d.person_id == partner.representative_id), None)

    def awaiting_declaration(self) -> list[Partner]:
        return [p for p in self.partners if self.declaration_of(p) is None]

    def declare_no_involvement(self, *, agency: str, by: str, at: datetime) -> Declaration:
        """The agency's lead auditor declares they had no casework involvement with or responsibility for
        the case (or the coordinator records the agency's written declaration)."""
        partner = self.partner(agency)
        if partner is None:
            raise InvalidEntries("No such partner agency.", [_error("agency", f"{agency!r} is not a partner agency of this audit")])
        if by not in (partner.representative_id, self.coordinator_id):
            raise NotAllowed("The agency's lead auditor declares for themselves (or the coordinator records their written declaration).")
        if self.meeting is not None:
            raise WrongStage("The multi-agency meeting has been held: the lead auditors were settled before it.")
        if self.declaration_of(partner) is not None:
            raise WrongStage(f"{partner.representative_id} has already declared no casework involvement with this case.")
        declaration = Declaration(agency=agency, person_id=partner.representative_id, statement=NO_INVOLVEMENT, by=by, at=at)
        self.declarations.append(declaration)
        self._touch(by, at)
        return declaration

    def replace_lead_auditor(
        self, *, agency: str, person_id: str, reason: str, allocation: CaseAllocation, known_to_directory: bool,
        by: str, by_roles: frozenset[str] | set[str], at: datetime,
    ) -> LeadAuditorChange:
        """The coordinator (or QA staff) replaces an agency's lead auditor before the meeting; the new one
        is checked against the case's allocation and declares in turn. The earlier one stays in the history."""
        if by != self.coordinator_id and QA_STAFF_ROLES.isdisjoint(by_roles):
            raise NotAllowed("The coordinator or QA staff replace an agency's lead auditor.")
        if self.meeting is not None:
            raise WrongStage("The multi-agency meeting has been held: its findings were agreed with the lead auditors present.")
        partner = self.partner(agency)
        if partner is None:
            raise InvalidEntries("No such partner agency.", [_error("agency", f"{agency!r} is not a partner agency of this audit")])
        errors = []
        if person_id == partner.representative_id:
            errors.append(_error("representative_id", f"{person_id} is already the lead auditor for {partner.name}"))
        if not reason.strip():
            errors.append(_error("reason", "say why the lead auditor is replaced"))
        errors += independence_errors(allocation, [("representative_id", person_id)])
        if errors:
            raise InvalidEntries("The lead auditor cannot be replaced as asked.", errors)
        change = LeadAuditorChange(agency=agency, previous_id=partner.representative_id, new_id=person_id, reason=reason.strip(), by=by, at=at)
        self.partners = [replace(p, representative_id=person_id) if p.agency == agency else p for p in self.partners]
        if known_to_directory:
            self.directory_checked = sorted({*self.directory_checked, person_id})
        self.lead_auditor_changes.append(change)
        self._touch(by, at)
        return change

    # --- consultation --------------------------------------------------------------------------

    def record_consultation(self, *, party: ConsultedParty, consultation: ConsultationInput, by: str, at: datetime) -> Consultation:
        """Record (or revise) one party's views; a revision keeps the earlier ones."""
        if by not in (self.auditor_id, self.coordinator_id, *self.consultation_worker_ids):
            raise NotAllowed("Consultation is recorded by the participation worker or QA officer named on the audit, the auditor or the coordinator.")
        if self.meeting is not None:
            raise WrongStage("The multi-agency meeting has been held: the consultation it triangulated can no longer change.")
        errors = []
        if consultation.held_on > local_date(at):
            errors.append(_error("held_on", "the consultation cannot be dated in the future"))
        if consultation.obtained and not consultation.views.strip():
            errors.append(_error("views", f"the views of the {party.value.replace('_', ' ')} are missing"))
        if not consultation.obtained and not consultation.reason_not_obtained.strip():
            errors.append(_error("reason_not_obtained", "say why the views could not be obtained"))
        if errors:
            raise InvalidEntries("The consultation cannot be recorded as written.", errors)
        previous = self.consultations.get(party.value)
        if previous is None:
            recorded = Consultation(party=party, input=consultation, revision=1, by=by, at=at)
        else:
            history = [*previous.history, ConsultationRevision(previous.revision, previous.input, previous.by, previous.at)]
            recorded = Consultation(party=party, input=consultation, revision=previous.revision + 1, by=by, at=at, history=history)
        self.consultations[party.value] = recorded
        self._touch(by, at)
        self.events.append(ConsultationRecorded(at=at, party=party, obtained=consultation.obtained, held_on=consultation.held_on, revision=recorded.revision, by=by))
        return recorded

    # --- the multi-agency meeting ---------------------------------------------------------------

    def hold_meeting(self, *, meeting: MeetingInput, by: str, by_roles: frozenset[str] | set[str], case_audit_completed: bool, at: datetime) -> None:
        """The Lead QA Auditor records the meeting they chaired: findings agreed with the partners, and the grade."""
        if CHAIR_ROLE not in by_roles:
            raise NotAllowed("The Lead QA Auditor chairs the multi-agency meeting and records it.")
        if self.meeting is not None:
            raise WrongStage("The multi-agency meeting has already been held.")
        if not case_audit_completed:
            raise WrongStage("The case audit has not been completed yet: the meeting analyses the completed audit.")
        missing = [p for p in ConsultedParty if p.value not in self.consultations]
        undeclared = self.awaiting_declaration()
        if missing or undeclared:
            said = ([f"consultation is missing for {len(missing)} part(ies) (the meeting triangulates the audit with it)"] if missing else []) + (
                [f"{len(undeclared)} lead auditor(s) have not declared no casework involvement with the case"] if undeclared else []
            )
            raise Gaps(
                "; ".join(said).capitalize() + ".",
                [_error(f"consultations.{p.value}", f"no consultation of the {p.value.replace('_', ' ')} recorded") for p in missing]
                + [_error(f"declarations.{p.agency}", f"{p.representative_id}, lead auditor for {p.name}, has not declared no casework involvement") for p in undeclared],
            )
        errors = []
        if meeting.held_on > local_date(at):
            errors.append(_error("held_on", "the meeting cannot be dated in the future"))
        if not meeting.partners_present:
            errors.append(_error("partners_present", "the findings are agreed with the partners present: name at least one"))
        for agency in meeting.partners_present:
            if self.partner(agency) is None:
                errors.append(_error("partners_present", f"{agency!r} is not a partner agency of this audit"))
        if len(set(meeting.partners_present)) != len(meeting.partners_present):
            errors.append(_error("partners_present", "an agency is listed twice"))
        if meeting.agreed_grade not in MEETING_GRADES:
            errors.append(_error("agreed_grade", "the meeting grades on the Ofsted scale: outstanding, good, requires improvement or inadequate"))
        if errors:
            raise InvalidEntries("The meeting cannot be recorded as written.", errors)
        present = sorted(set(meeting.partners_present))
        self.meeting = Meeting(
            chair_id=by, held_on=meeting.held_on, partners_present=present,
            representatives_present=[p.representative_id for p in self.partners if p.agency in present],
            others_present=list(meeting.others_present), findings=meeting.findings, agreed_grade=meeting.agreed_grade, recorded_at=at,
        )
        self._touch(by, at)
        self.events.append(MeetingHeld(at=at, by=by))

    # --- the multi-agency action plan -----------------------------------------------------------

    def agree_plan(self, *, plan: PlanInput, by: str, at: datetime) -> ActionPlan:
        """The chair or the coordinator records the action plan agreed for all the agencies."""
        if self.meeting is None:
            raise WrongStage("The action plan is agreed at the multi-agency meeting: record the meeting first.")
        if by not in (self.meeting.chair_id, self.coordinator_id):
            raise NotAllowed("The meeting's chair or the coordinator records the multi-agency action plan.")
        if self.plan is not None:
            raise WrongStage("The multi-agency action plan has already been agreed.")
        errors = []
        for partner in self.partners:
            if partner.agency not in plan.owners:
                errors.append(_error(f"owners.{partner.agency}", f"no owner named for {partner.name}: the plan needs an owner per agency"))
        for agency in plan.owners:
            if self.partner(agency) is None:
                errors.append(_error(f"owners.{agency}", f"{agency!r} is not a partner agency of this audit"))
        for n, item in enumerate(plan.actions):
            if item.agency not in plan.owners:
                errors.append(_error(f"actions.{n}.agency", f"no owner named for {item.agency!r}"))
            if item.due_on < local_date(at):
                errors.append(_error(f"actions.{n}.due_on", "the due date has already passed"))
        if errors:
            raise InvalidEntries("The action plan cannot be agreed as written.", errors)
        actions = [
            Action(
                id=str(n), agency=item.agency, owner_id=plan.owners[item.agency], action=item.action, due_on=item.due_on,
                history=[StatusChange(ActionStatus.OPEN, "", by, at)],
            )
            for n, item in enumerate(plan.actions, start=1)
        ]
        self.plan = ActionPlan(owners=dict(sorted(plan.owners.items())), actions=actions, agreed_by=by, agreed_at=at)
        self._touch(by, at)
        self.events.extend(ActionAssigned(at=at, action_id=a.id, by=by) for a in actions)
        return self.plan

    def action(self, action_id: str) -> Action:
        action = next((a for a in self.plan.actions if a.id == action_id), None) if self.plan else None
        if action is None:
            raise NoSuchAction(action_id)
        return action

    def change_action_status(self, *, action_id: str, status: ActionStatus, note: str, by: str, at: datetime) -> Action:
        """The action's owner (or the coordinator) moves it on; only the coordinator reopens a done action."""
        action = self.action(action_id)
        if by not in (action.owner_id, self.coordinator_id):
            raise NotAllowed("Only the action's owner or the coordinator changes its status.")
        if self.stage is Stage.REPORTED:
            raise WrongStage("The plan has been reported complete to the QA sub-committee; its actions are closed.")
        if status is action.status:
            raise InvalidEntries("Nothing to change.", [_error("status", f"the action is already {status.value.replace('_', ' ')}")])
        if action.done and by != self.coordinator_id:
            raise NotAllowed("A done action is reopened only by the coordinator.")
        if (status is ActionStatus.DONE or action.done) and not note.strip():
            field_message = "say what was done" if status is ActionStatus.DONE else "say why the action is reopened"
            raise InvalidEntries("A note is needed.", [_error("note", field_message)])
        action.status = status
        action.history.append(StatusChange(status, note.strip(), by, at))
        self._touch(by, at)
        self.events.append(ActionStatusChanged(at=at, action_id=action.id, status=status, by=by))
        if status is ActionStatus.DONE:
            self.events.append(ActionCompleted(at=at, action_id=action.id, by=by))
        return action

    # --- reporting to the QA sub-committee -------------------------------------------------------

    def report(
        self, *, kind: ReportKind, summary: str, by: str, by_roles: frozenset[str] | set[str], at: datetime, pdf_id: str | None = None
    ) -> Report:
        """A progress report while actions are open; the completion report once every action is done."""
        if by != self.coordinator_id and CHAIR_ROLE not in by_roles:
            raise NotAllowed("The coordinator or the Lead QA Auditor reports to the QA sub-committee.")
        if self.plan is None:
            raise WrongStage("There is no action plan to report on yet.")
        if self.stage is Stage.REPORTED:
            raise WrongStage("The plan has already been reported complete to the QA sub-committee.")
        open_actions = [a.id for a in self.plan.actions if not a.done]
        if kind is ReportKind.COMPLETION and open_actions:
            raise WrongStage(f"The plan is complete only when every action is done; still open: action(s) {', '.join(open_actions)}.")
        if kind is ReportKind.PROGRESS and not open_actions:
            raise WrongStage("Every action is done: send the completion report.")
        if not summary.strip():
            raise InvalidEntries("The report needs its summary.", [_error("summary", "the summary for the QA sub-committee is missing")])
        done = sum(1 for a in self.plan.actions if a.done)
        report = Report(
            number=len(self.reports) + 1, kind=kind, summary=summary.strip(), by=by, at=at, actions_total=len(self.plan.actions), actions_done=done,
            pdf_id=pdf_id,
        )
        self.reports.append(report)
        self._touch(by, at)
        self.events.append(PlanReported(at=at, number=report.number, by=by))
        return report

    def _touch(self, by: str, at: datetime) -> None:
        self.updated_by, self.updated_at = by, at
