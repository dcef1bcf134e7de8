"""The six-monthly structured team review (Hillingdon 6), as plain rules.

- **The pack** (6.2): for a team and six months, the audits' grade counts and common issues (the
  audit reports' own counting, ``domain.reporting``), the monitoring forms, consultation data,
  complaints and compliments, feedback from practice observation, and feedback from parents,
  partner agencies and social workers. ``build_pack`` is a pure function of those records.
- **Priorities and the improvement plan** (6.3-6.4): the team manager and service manager agree
  the key priorities and the actions (what, who, by when), tracked to completion; every status
  change is kept. An area needing support beyond the team is referred to service development:
  the assistant director is told.

Plain records here; the API's response bodies (``team_review.schemas``) describe them. A review
records what happens to it (``Review.events``) for ``team_review.events`` to publish.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from shared.calendar import local_date

from ...common.errors import InvalidEntries, NotAllowed, WrongStage
from ...common.roles import QA_STAFF_ROLES
from ...practice.domain.records import (
    ActionTaken,
    Aspect,
    ComplaintKind,
    FeedbackKind,
    MonitoringKind,
    Outcome,
    Rating,
    Respondent,
    View,
)
from ...reporting.domain.figures import TeamReview as AuditReview
from . import events as ev

# --- the pack -----------------------------------------------------------------------------------


@dataclass(kw_only=True)
class Issue:
    """An area to address common to the completed audits (a section or a question)."""

    kind: str
    key: str
    title: str
    audits: int
    share: float


@dataclass(kw_only=True)
class AuditFigures:
    audits: int
    completed: int
    grades: dict[str, int]
    common_issues: list[Issue]
    #: Actions the completed audits asked of the team (action plans, recommendations, inadequate practice).
    actions: int


@dataclass(kw_only=True)
class MonitoringFigures:
    forms: int
    by_kind: dict[str, int]
    reports_on_time: int
    reports_late: int
    ratings: dict[str, dict[str, int]]
    plans_not_progressing: int


@dataclass(kw_only=True)
class Views:
    responses: int
    positive: int
    mixed: int
    negative: int
    comments: list[str]


@dataclass(kw_only=True)
class ComplaintFigures:
    complaints: int
    members_enquiries: int
    outcomes: dict[str, int]
    actions_taken: dict[str, int]
    lessons: list[str]


@dataclass(kw_only=True)
class ComplimentFigures:
    compliments: int
    summaries: list[str]


@dataclass(kw_only=True)
class ObservationFigures:
    #: Social workers in the team.
    social_workers: int
    #: Observations reported in the period.
    observations: int
    social_workers_observed: int
    social_workers_observed_twice: int
    reflections: int
    positive_aspects: list[str]
    areas_for_development: list[str]


@dataclass(kw_only=True)
class Pack:
    """Every figure of the review pack (a snapshot taken when the review is issued)."""

    months: list[str]
    audits: AuditFigures
    monitoring: MonitoringFigures
    #: Consultation forms and questionnaires, by respondent.
    consultation: dict[str, Views]
    #: Feedback forms at the end of meetings, by respondent (parents, partner agencies, social workers, children).
    feedback: dict[str, Views]
    complaints: ComplaintFigures
    compliments: ComplimentFigures
    observations: ObservationFigures


def _views(rows: list[dict[str, Any]]) -> Views:
    views = Counter(r["view"] for r in rows)
    return Views(
        responses=len(rows), positive=views.get(View.POSITIVE.value, 0), mixed=views.get(View.MIXED.value, 0),
        negative=views.get(View.NEGATIVE.value, 0), comments=[r["comments"] for r in rows if r.get("comments")],
    )


def _by_respondent(rows: Iterable[dict[str, Any]], kind: FeedbackKind) -> dict[str, Views]:
    mine = [r for r in rows if r["kind"] == kind.value]
    return {who.value: _views([r for r in mine if r["respondent"] == who.value]) for who in Respondent}


def build_pack(
    *, audits: AuditReview, monitoring: list[dict[str, Any]], feedback: list[dict[str, Any]], complaints: list[dict[str, Any]],
    compliments: list[dict[str, Any]], observations: list[dict[str, Any]], social_worker_ids: list[str],
) -> Pack:
    """The pack's figures from the team's records of the period (each a stored record's fields)."""
    kinds = Counter(f["kind"] for f in monitoring)
    outcomes = Counter(c["outcome"] for c in complaints)
    actions = Counter(a for c in complaints for a in c.get("actions_taken", []))
    reported = [o for o in observations if o.get("report")]
    per_worker = Counter(o["social_worker_id"] for o in reported)
    return Pack(
        months=audits.months,
        audits=AuditFigures(
            audits=audits.audits, completed=audits.completed, grades=audits.grades,
            common_issues=[Issue(**t.__dict__) for t in audits.common_issues], actions=len(audits.actions),
        ),
        monitoring=MonitoringFigures(
            forms=len(monitoring), by_kind={k.value: kinds.get(k.value, 0) for k in MonitoringKind},
            reports_on_time=sum(f.get("report_on_time") is True for f in monitoring),
            reports_late=sum(f.get("report_on_time") is False for f in monitoring),
            ratings={a.value: {r.value: sum((f.get("ratings") or {}).get(a.value) == r.value for f in monitoring) for r in Rating} for a in Aspect},
            plans_not_progressing=sum(f.get("plan_progressing") is False for f in monitoring),
        ),
        consultation=_by_respondent(feedback, FeedbackKind.CONSULTATION),
        feedback=_by_respondent(feedback, FeedbackKind.MEETING_FEEDBACK),
        complaints=ComplaintFigures(
            complaints=sum(c["kind"] == ComplaintKind.COMPLAINT.value for c in complaints),
            members_enquiries=sum(c["kind"] == ComplaintKind.MEMBERS_ENQUIRY.value for c in complaints),
            outcomes={o.value: outcomes.get(o.value, 0) for o in Outcome},
            actions_taken={a.value: actions.get(a.value, 0) for a in ActionTaken},
            lessons=[c["lessons_learned"] for c in complaints],
        ),
        compliments=ComplimentFigures(compliments=len(compliments), summaries=[c["summary"] for c in compliments]),
        observations=ObservationFigures(
            social_workers=len(set(social_worker_ids)), observations=len(reported), social_workers_observed=len(per_worker),
            social_workers_observed_twice=sum(n >= 2 for n in per_worker.values()),
            reflections=sum(bool(o.get("reflection")) for o in reported),
            positive_aspects=[o["report"]["positive_aspects"] for o in reported],
            areas_for_development=[o["report"]["areas_for_development"] for o in reported],
        ),
    )


# --- 6.2: the sections no system supplies, entered by QA staff --------------------------------------


@dataclass(frozen=True, kw_only=True)
class Indicator:
    """6.2 "Performance Indicators": one indicator as the team received it."""

    name: str
    #: The figure as reported (e.g. "87%", "12 days").
    value: str
    target: str = ""
    comment: str = ""


class IssueSource(StrEnum):
    """6.2 "Key practice issues arising from IMRs or SCRs"."""

    IMR = "imr"  # an individual management review
    SCR = "scr"  # a serious case review


@dataclass(frozen=True, kw_only=True)
class PracticeIssue:
    source: IssueSource
    #: The review's reference (never a child's name).
    reference: str
    issue: str


def check_indicators(indicators: list[Indicator]) -> None:
    errors = []
    seen: set[str] = set()
    for n, i in enumerate(indicators):
        if not i.name.strip() or not i.value.strip():
            errors.append({"field": f"indicators.{n}", "message": "an indicator has its name and its value"})
        elif i.name.strip().lower() in seen:
            errors.append({"field": f"indicators.{n}.name", "message": f"{i.name!r} is listed twice"})
        seen.add(i.name.strip().lower())
    if errors:
        raise InvalidEntries("The performance indicators cannot be recorded as given.", errors)


def check_practice_issues(issues: list[PracticeIssue]) -> None:
    errors = [
        {"field": f"issues.{n}", "message": "a practice issue names its IMR or SCR reference and the issue"}
        for n, i in enumerate(issues) if not i.reference.strip() or not i.issue.strip()
    ]
    if errors:
        raise InvalidEntries("The key practice issues cannot be recorded as given.", errors)


# --- the review and its improvement plan ----------------------------------------------------------


class ActionKind(StrEnum):
    """What an improvement plan may include (6.4)."""

    INDIVIDUAL_SUPPORT = "individual_support"  # individuals who need support, direction, guidance, training
    TEAM_SESSION = "team_session"  # a session or two with the team to own the problem and find solutions
    SERVICE_DEVELOPMENT = "service_development"  # referred to service development (procedures, guidance, resources, training...)
    OTHER = "other"


class ActionStatus(StrEnum):
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    DROPPED = "dropped"

    @property
    def closed(self) -> bool:
        return self in (ActionStatus.COMPLETED, ActionStatus.DROPPED)


@dataclass(frozen=True, kw_only=True)
class NewAction:
    """An action to add to the improvement plan: what, who, by when."""

    action: str
    owner_id: str
    due_on: date
    kind: ActionKind = ActionKind.OTHER
    #: Service development: the support the department needs to provide.
    need: str = ""


@dataclass(kw_only=True)
class StatusChange:
    status: ActionStatus
    note: str
    by: str
    at: datetime


@dataclass(kw_only=True)
class Referral:
    need: str
    assistant_director_id: str | None
    referred_by: str
    referred_at: datetime


@dataclass(kw_only=True)
class ImprovementAction:
    number: int
    action: str
    owner_id: str
    due_on: date
    kind: ActionKind
    status: ActionStatus = ActionStatus.OPEN
    changes: list[StatusChange]
    referral: Referral | None = None
    completed_on: date | None = None
    #: The due day an ``improvement-action.due`` was sent for (once per due day).
    due_notice_for: date | None = None


class ReviewStatus(StrEnum):
    OPEN = "open"
    COMPLETED = "completed"  # every action of the plan completed or dropped


@dataclass(kw_only=True)
class Review:
    id: str
    team_id: str
    to_month: str
    months: list[str]
    team_manager_id: str | None
    service_manager_id: str | None
    assistant_director_id: str | None
    pack: Pack
    priorities: list[str] = field(default_factory=list)
    priorities_agreed_by: list[str] = field(default_factory=list)
    actions: list[ImprovementAction] = field(default_factory=list)
    #: 6.2 "Performance Indicators", entered by QA staff (no system supplies them).
    performance_indicators: list[Indicator] = field(default_factory=list)
    #: 6.2 "Key practice issues arising from IMRs or SCRs", entered by QA staff.
    practice_issues: list[PracticeIssue] = field(default_factory=list)
    status: ReviewStatus = ReviewStatus.OPEN
    issued_by: str
    issued_at: datetime
    updated_by: str
    updated_at: datetime
    version: int = 0
    #: What happened since it was loaded (not stored): ``team_review.events`` publishes them.
    events: list[ev.DomainEvent] = field(default_factory=list, repr=False, compare=False)

    @classmethod
    def issue(
        cls, *, review_id: str, team_id: str, to_month: str, team_manager_id: str | None, service_manager_id: str | None,
        assistant_director_id: str | None, pack: Pack, by: str, at: datetime,
    ) -> Review:
        """The review of the six months ``pack.months``, issued with its pack."""
        review = cls(
            id=review_id, team_id=team_id, to_month=to_month, months=list(pack.months), team_manager_id=team_manager_id,
            service_manager_id=service_manager_id, assistant_director_id=assistant_director_id, pack=pack, issued_by=by, issued_at=at,
            updated_by=by, updated_at=at,
        )
        review.events.append(ev.ReviewIssued(
            review_id=review_id, team_id=team_id, months=tuple(pack.months), team_manager_id=team_manager_id, service_manager_id=service_manager_id,
            assistant_director_id=assistant_director_id, completed_audits=pack.audits.completed, grades=dict(pack.audits.grades), by=by, at=at,
        ))
        return review

    # --- who ------------------------------------------------------------------------------------

    def parties(self) -> list[str]:
        return sorted({p for p in (self.team_manager_id, self.service_manager_id, self.assistant_director_id) if p})

    def visible_to(self, person_id: str, roles: frozenset[str]) -> bool:
        """The team's manager, their service manager, the assistant director and QA staff. An
        action's owner outside them does not read the pack (it quotes colleagues' feedback): the
        team manager records their progress."""
        return person_id in self.parties() or not QA_STAFF_ROLES.isdisjoint(roles)

    def action_visible_to(self, number: int, person_id: str, roles: frozenset[str]) -> bool:
        """An action is also seen by its owner (only the action: not the pack)."""
        return self.visible_to(person_id, roles) or any(a.number == number and a.owner_id == person_id for a in self.actions)

    def _managers(self, by: str) -> None:
        if by not in (self.team_manager_id, self.service_manager_id):
            raise NotAllowed("The team manager and service manager agree the priorities and the improvement plan.")

    def _touch(self, by: str, at: datetime) -> None:
        self.updated_by, self.updated_at = by, at

    # --- 6.2: the sections QA staff enter ------------------------------------------------------

    def _qa_staff(self, roles: frozenset[str]) -> None:
        if QA_STAFF_ROLES.isdisjoint(roles):
            raise NotAllowed("QA staff enter the performance indicators and the practice issues from IMRs and SCRs.")

    def enter_indicators(self, *, by: str, roles: frozenset[str], indicators: list[Indicator], at: datetime) -> None:
        """6.2: the performance indicators the team received; replaces the list (every version kept)."""
        self._qa_staff(roles)
        check_indicators(indicators)
        self.performance_indicators = list(indicators)
        self._touch(by, at)

    def enter_practice_issues(self, *, by: str, roles: frozenset[str], issues: list[PracticeIssue], at: datetime) -> None:
        """6.2: the key practice issues arising from IMRs or SCRs; replaces the list (every version kept)."""
        self._qa_staff(roles)
        check_practice_issues(issues)
        self.practice_issues = list(issues)
        self._touch(by, at)

    # --- priorities and plan --------------------------------------------------------------------

    def agree_priorities(self, *, by: str, priorities: list[str], at: datetime) -> None:
        self._managers(by)
        cleaned = [p.strip() for p in priorities if p.strip()]
        if not cleaned:
            raise InvalidEntries("No priorities.", [{"field": "priorities", "message": "agree at least one key priority for focused attention"}])
        if cleaned != self.priorities:
            self.priorities_agreed_by = []
        self.priorities = cleaned
        if by not in self.priorities_agreed_by:
            self.priorities_agreed_by = sorted({*self.priorities_agreed_by, by})
        self._touch(by, at)

    def add_action(self, *, by: str, entries: NewAction, assistant_director_id: str | None, at: datetime) -> ImprovementAction:
        self._managers(by)
        errors = []
        if entries.due_on < local_date(at):
            errors.append({"field": "due_on", "message": "an action is due today or later"})
        if entries.kind is ActionKind.SERVICE_DEVELOPMENT and not entries.need:
            errors.append({"field": "need", "message": "say what support the department needs to provide"})
        if entries.kind is not ActionKind.SERVICE_DEVELOPMENT and entries.need:
            errors.append({"field": "need", "message": "only a referral to service development states a need"})
        if errors:
            raise InvalidEntries("This action cannot be added to the plan.", errors)
        action = ImprovementAction(
            number=len(self.actions) + 1, action=entries.action, owner_id=entries.owner_id, due_on=entries.due_on, kind=entries.kind,
            changes=[StatusChange(status=ActionStatus.OPEN, note="Added to the improvement plan", by=by, at=at)],
        )
        if entries.kind is ActionKind.SERVICE_DEVELOPMENT:
            action.referral = Referral(need=entries.need, assistant_director_id=assistant_director_id, referred_by=by, referred_at=at)
        self.actions.append(action)
        self.status = ReviewStatus.OPEN
        self._touch(by, at)
        if action.referral is not None:
            self.events.append(ev.ServiceDevelopmentReferred(
                review_id=self.id, team_id=self.team_id, action_number=action.number, need=action.referral.need,
                assistant_director_id=action.referral.assistant_director_id, service_manager_id=self.service_manager_id, by=by, at=at,
            ))
        return action

    def action(self, number: int) -> ImprovementAction:
        for a in self.actions:
            if a.number == number:
                return a
        raise InvalidEntries("No such action.", [{"field": "number", "message": f"the plan has no action {number}"}])

    def change_status(self, *, by: str, number: int, status: ActionStatus, note: str, at: datetime) -> ImprovementAction:
        action = self.action(number)
        if by not in (action.owner_id, self.team_manager_id, self.service_manager_id):
            raise NotAllowed("An action's status is changed by its owner, the team manager or the service manager.")
        if action.status.closed:
            raise WrongStage(f"Action {number} is {action.status.value}; it stays so.")
        if status is action.status:
            raise WrongStage(f"Action {number} is {status.value} already.")
        if status is ActionStatus.DROPPED and not note:
            raise InvalidEntries("A reason is needed.", [{"field": "note", "message": "say why the action is dropped"}])
        action.status = status
        action.changes.append(StatusChange(status=status, note=note, by=by, at=at))
        if status is ActionStatus.COMPLETED:
            action.completed_on = local_date(at)
        if self.actions and all(a.status.closed for a in self.actions):
            self.status = ReviewStatus.COMPLETED
        self._touch(by, at)
        plan_completed = self.status is ReviewStatus.COMPLETED
        if status is ActionStatus.COMPLETED:
            self.events.append(ev.ImprovementActionCompleted(
                review_id=self.id, team_id=self.team_id, action_number=action.number, owner_id=action.owner_id, due_on=action.due_on,
                by=by, at=at, plan_completed=plan_completed,
            ))
        elif status is ActionStatus.DROPPED:
            self.events.append(ev.ImprovementActionDropped(
                review_id=self.id, team_id=self.team_id, action_number=action.number, owner_id=action.owner_id, due_on=action.due_on,
                by=by, at=at, plan_completed=plan_completed,
            ))
        return action

    def actions_due(self, today: date) -> list[ImprovementAction]:
        """Open actions at or past their due day whose notice was not yet sent for that day."""
        return [a for a in self.actions if not a.status.closed and a.due_on <= today and a.due_notice_for != a.due_on]

    def notice_actions_due(self, today: date) -> list[ImprovementAction]:
        """Notice every action ``actions_due``: each remembers its due day was noticed, once."""
        due = self.actions_due(today)
        for action in due:
            action.due_notice_for = action.due_on
            self.events.append(ev.ImprovementActionDue(
                review_id=self.id, team_id=self.team_id, action_number=action.number, owner_id=action.owner_id, due_on=action.due_on,
                status=action.status.value,
            ))
        return due

    @property
    def next_notice_on(self) -> str | None:
        """The earliest due day of an open action not yet noticed (indexed for the scheduler)."""
        days = [a.due_on for a in self.actions if not a.status.closed and a.due_notice_for != a.due_on]
        return min(days).isoformat() if days else None
