"""Response and request bodies of the team review API that describe a review: the pack's figures,
the improvement plan and its actions (their fields and descriptions: the OpenAPI document). The
rules keep the same records as plain values (``domain.review``); ``review_out`` and ``action_out``
turn them into these bodies."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field

from ..common.schemas import InputModel
from .domain import review as dr
from .domain.review import ActionKind, ActionStatus, IssueSource, ReviewStatus

# --- the pack -----------------------------------------------------------------------------------


class IssueOut(BaseModel):
    kind: str
    key: str
    title: str
    audits: int
    share: float


class AuditFigures(BaseModel):
    audits: int
    completed: int
    grades: dict[str, int]
    common_issues: list[IssueOut]
    actions: int = Field(description="Actions the completed audits asked of the team (action plans, recommendations, inadequate practice)")


class MonitoringFigures(BaseModel):
    forms: int
    by_kind: dict[str, int]
    reports_on_time: int
    reports_late: int
    ratings: dict[str, dict[str, int]]
    plans_not_progressing: int


class Views(BaseModel):
    responses: int
    positive: int
    mixed: int
    negative: int
    comments: list[str]


class ComplaintFigures(BaseModel):
    complaints: int
    members_enquiries: int
    outcomes: dict[str, int]
    actions_taken: dict[str, int]
    lessons: list[str]


class ComplimentFigures(BaseModel):
    compliments: int
    summaries: list[str]


class ObservationFigures(BaseModel):
    social_workers: int = Field(description="Social workers in the team")
    observations: int = Field(description="Observations reported in the period")
    social_workers_observed: int
    social_workers_observed_twice: int
    reflections: int
    positive_aspects: list[str]
    areas_for_development: list[str]


class Pack(BaseModel):
    """Every figure of the review pack (a snapshot taken when the review is issued)."""

    months: list[str]
    audits: AuditFigures
    monitoring: MonitoringFigures
    consultation: dict[str, Views] = Field(description="Consultation forms and questionnaires, by respondent")
    feedback: dict[str, Views] = Field(description="Feedback forms at the end of meetings, by respondent (parents, partner agencies, social workers, children)")
    complaints: ComplaintFigures
    compliments: ComplimentFigures
    observations: ObservationFigures


# --- the review and its improvement plan ----------------------------------------------------------


class ActionIn(InputModel):
    action: str = Field(min_length=1, max_length=4000)
    owner_id: str = Field(min_length=1, max_length=64)
    due_on: date
    kind: ActionKind = ActionKind.OTHER
    need: str = Field(default="", max_length=4000, description="Service development: the support the department needs to provide")


class StatusChange(BaseModel):
    status: ActionStatus
    note: str
    by: str
    at: datetime


class Referral(BaseModel):
    need: str
    assistant_director_id: str | None
    referred_by: str
    referred_at: datetime


class ImprovementAction(BaseModel):
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


class Indicator(InputModel):
    """6.2 "Performance Indicators": one indicator as the team received it."""

    name: str = Field(min_length=1, max_length=200)
    value: str = Field(min_length=1, max_length=100, description="The figure as reported, e.g. 87% or 12 days")
    target: str = Field(default="", max_length=100)
    comment: str = Field(default="", max_length=4000)


class PracticeIssue(InputModel):
    """6.2 "Key practice issues arising from IMRs or SCRs"."""

    source: IssueSource = Field(description="imr (individual management review) or scr (serious case review)")
    reference: str = Field(min_length=1, max_length=100, description="The IMR's or SCR's reference (never a child's name)")
    issue: str = Field(min_length=1, max_length=4000)


class Review(BaseModel):
    id: str
    team_id: str
    to_month: str
    months: list[str]
    team_manager_id: str | None
    service_manager_id: str | None
    assistant_director_id: str | None
    pack: Pack
    priorities: list[str] = Field(default_factory=list)
    priorities_agreed_by: list[str] = Field(default_factory=list)
    actions: list[ImprovementAction] = Field(default_factory=list)
    performance_indicators: list[Indicator] = Field(default_factory=list)
    practice_issues: list[PracticeIssue] = Field(default_factory=list)
    status: ReviewStatus = ReviewStatus.OPEN
    issued_by: str
    issued_at: datetime
    updated_by: str
    updated_at: datetime
    version: int = 0


def review_out(review: dr.Review) -> Review:
    return Review.model_validate(review, from_attributes=True)


def action_out(action: dr.ImprovementAction) -> ImprovementAction:
    return ImprovementAction.model_validate(action, from_attributes=True)


def new_action(body: ActionIn) -> dr.NewAction:
    return dr.NewAction(**body.model_dump())


def indicators_of(items: list[Indicator]) -> list[dr.Indicator]:
    return [dr.Indicator(**i.model_dump()) for i in items]


def practice_issues_of(items: list[PracticeIssue]) -> list[dr.PracticeIssue]:
    return [dr.PracticeIssue(**i.model_dump()) for i in items]
