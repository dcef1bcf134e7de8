"""Request and response shapes of the Hillingdon and themed routes (apart from the records and
their documents). A crib sheet's row (``CribEntry``) and a review's outcome (``ReviewOutcome``)
are plain values in the domain; here they have their limits, ``entries_of`` and ``outcome_of``
turn a body into the domain's values, and a response reads them by attribute."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, TypeAlias

from pydantic import BaseModel, ConfigDict, Field
from shared.ids import IdField

from ..case_audit.schemas import ActionItem
from ..common.api_params import MONTH_PATTERN
from ..common.schemas import InputModel, WrittenValue, to_domain
from .domain import crib_sheet, review
from .domain.crib_sheet import CribSheet, ManagementSession, Tick
from .domain.report import EditableReport
from .domain.review import PracticeReview

PersonId: TypeAlias = IdField
MonthText = Annotated[str, Field(pattern=MONTH_PATTERN, description="YYYY-MM")]
Text = Annotated[str, Field(min_length=1, max_length=2000)]


class ReviewOutcome(WrittenValue):
    """What the service manager records after reviewing the case."""

    outcome: str = Field(min_length=1, max_length=20000)
    actions_taken: list[Text] = Field(min_length=1, max_length=50)
    practice_issues: bool
    improvement_plan: list[ActionItem] = Field(default_factory=list, max_length=50)


def outcome_of(body: ReviewOutcome) -> review.ReviewOutcome:
    return to_domain(body, review.ReviewOutcome)


class CribEntry(WrittenValue):
    """One point's row: the two columns, the follow-up action and the date checked by the manager."""

    social_worker: Tick | None = None
    manager: Tick | None = None
    follow_up: str = Field(default="", max_length=4000)
    checked_on: date | None = None


class ReassignIn(InputModel):
    service_manager_id: PersonId | None = None
    assistant_director_id: PersonId | None = None


class RecordedOut(BaseModel):
    number: int
    by: str
    at: datetime
    outcome: ReviewOutcome


class ReviewOut(BaseModel):
    id: str
    audit_id: str
    case_ref: str
    team_id: str | None
    month: str | None
    grade: str
    auditor_id: str
    service_manager_id: str | None
    assistant_director_id: str | None
    status: str
    closed: bool
    outcome: ReviewOutcome | None
    opened_at: datetime
    reported_at: datetime | None
    verified_by: str | None
    verified_at: datetime | None
    verification: str | None
    version: int
    history: list[RecordedOut]


class VerificationIn(BaseModel):
    """What the QA auditor found of the action taken (Appendix D)."""

    model_config = ConfigDict(extra="forbid")

    verification: str = Field(min_length=1, max_length=20000)


def review_out(r: PracticeReview) -> ReviewOut:
    return ReviewOut(
        id=r.id, audit_id=r.audit_id, case_ref=r.case_ref, team_id=r.team_id, month=r.month, grade=r.grade.value, auditor_id=r.auditor_id,
        service_manager_id=r.service_manager_id, assistant_director_id=r.assistant_director_id, status=r.status.value, closed=r.closed,
        outcome=_outcome(r.outcome), opened_at=r.opened_at, reported_at=r.reported_at, verified_by=r.verified_by, verified_at=r.verified_at,
        verification=r.verification, version=r.version,
        history=[RecordedOut(number=h.number, by=h.by, at=h.at, outcome=ReviewOutcome.model_validate(h.outcome)) for h in r.history],
    )


def _outcome(outcome: review.ReviewOutcome | None) -> ReviewOutcome | None:
    return ReviewOutcome.model_validate(outcome) if outcome is not None else None


class MonthlyReportIn(InputModel):
    month: MonthText


class ThemedReportIn(InputModel):
    period: MonthText = Field(description="The first month of the bi-monthly period (January, March, May, July, September or November)")
    theme: str = Field(min_length=1, max_length=200, description="e.g. supervision, care plans, decision making, the child's views")


class ReportEditIn(InputModel):
    sections: dict[str, str] = Field(description="Text by section: monthly headlines / themes / recommendations; themed findings / recommendations")


class ReportEditOut(BaseModel):
    number: int
    what: str
    by: str
    at: datetime
    sections: dict[str, str]


class ReportOut(BaseModel):
    id: str
    kind: str
    period: str
    title: str
    status: str
    figures: dict[str, Any]
    sections: dict[str, str]
    created_by: str
    created_at: datetime
    issued_by: str | None
    issued_at: datetime | None
    pdf_href: str
    version: int


def report_out(r: EditableReport, pdf_href: str) -> ReportOut:
    return ReportOut(
        id=r.id, kind=r.kind.value, period=r.period, title=r.title, status=r.status.value, figures=r.figures, sections=r.sections,
        created_by=r.created_by, created_at=r.created_at, issued_by=r.issued_by, issued_at=r.issued_at, pdf_href=pdf_href, version=r.version,
    )


class ScheduledPeriodOut(BaseModel):
    period: str
    months: list[str]
    due_on: date
    state: str
    theme: str | None


class CribPointOut(BaseModel):
    number: int
    text: str
    details: list[str]


class CribSheetTemplateOut(BaseModel):
    heading: str
    columns: list[str]
    points: list[CribPointOut]


class CribSheetIn(InputModel):
    case_id: PersonId
    month: MonthText
    social_worker_id: PersonId | None = Field(default=None, description="Defaults to the case's allocated worker")


class CribEntriesIn(InputModel):
    entries: dict[str, CribEntry] = Field(description="By point number, 1 to 16")


def entries_of(body: CribEntriesIn) -> dict[str, crib_sheet.CribEntry]:
    return {point: to_domain(entry, crib_sheet.CribEntry) for point, entry in body.entries.items()}


class CribSheetOut(BaseModel):
    id: str
    case_id: str
    team_id: str | None
    month: str
    social_worker_id: str
    team_manager_id: str
    service_manager_id: str | None
    status: str
    entries: dict[str, CribEntry]
    saves: int
    checked_by: str | None
    checked_at: datetime | None
    version: int


def crib_sheet_out(s: CribSheet) -> CribSheetOut:
    return CribSheetOut(
        id=s.id, case_id=s.case_id, team_id=s.team_id, month=s.month, social_worker_id=s.social_worker_id, team_manager_id=s.team_manager_id,
        service_manager_id=s.service_manager_id, status=s.status.value,
        entries={point: CribEntry.model_validate(e) for point, e in s.entries.items()}, saves=len(s.history), checked_by=s.checked_by,
        checked_at=s.checked_at, version=s.version,
    )


class SessionIn(InputModel):
    month: MonthText
    team_id: PersonId
    crib_sheet_ids: list[PersonId] = Field(min_length=1, max_length=4, description="The two cases reviewed with the team manager")


class SummaryIn(InputModel):
    summary: str = Field(min_length=1, max_length=20000, description="How well the actions have been progressed on the cases")


class SessionOut(BaseModel):
    id: str
    month: str
    team_id: str
    service_manager_id: str
    team_manager_id: str | None
    assistant_director_id: str | None
    crib_sheet_ids: list[str]
    status: str
    summary: str
    summaries: int
    reported_at: datetime | None
    version: int


def session_out(s: ManagementSession) -> SessionOut:
    return SessionOut(
        id=s.id, month=s.month, team_id=s.team_id, service_manager_id=s.service_manager_id, team_manager_id=s.team_manager_id,
        assistant_director_id=s.assistant_director_id, crib_sheet_ids=s.crib_sheet_ids, status=s.status.value, summary=s.summary,
        summaries=len(s.summaries), reported_at=s.reported_at, version=s.version,
    )



# --- the single-agency audit round (Appendix D) ------------------------------------------------


class RoundAllocationIn(InputModel):
    auditor_id: PersonId = Field(description="A service manager, team manager, IRO, CP chair or assistant director (5.2.1)")
    area_of_expertise: list[Annotated[str, Field(min_length=1, max_length=8)]] = Field(
        max_length=3, description="The case types within the auditor's area of expertise and knowledge: CIN, CP, CIC"
    )
    case_ids: list[Annotated[str, Field(min_length=1, max_length=64)]] = Field(max_length=10, description="Three of the team's cases")


class RoundIn(InputModel):
    month: MonthText
    team_id: Annotated[str, Field(min_length=1, max_length=64)]
    allocations: list[RoundAllocationIn] = Field(max_length=20, description="Three cases each, to (at least) a service manager and a team manager")


class SampleIn(InputModel):
    audit_ids: list[Annotated[str, Field(min_length=1, max_length=64)]] = Field(max_length=50, description="Audits of the round graded good or above")


class SampleReviewIn(InputModel):
    finding: str = Field(min_length=1, max_length=20000)
    agrees_with_grade: bool


class OverviewIn(InputModel):
    overview: str = Field(min_length=1, max_length=50000, description="An overview of all the findings of all the audits of the round")


class RoundAllocationOut(BaseModel):
    auditor_id: str
    area_of_expertise: list[str]
    case_ids: list[str]
    audit_ids: list[str]


class RoundAuditOut(BaseModel):
    audit_id: str
    completed: bool
    grade: str | None


class SampledAuditOut(BaseModel):
    audit_id: str
    grade: str
    selected_by: str
    selected_at: datetime
    finding: str | None
    agrees_with_grade: bool | None
    reviewed_by: str | None
    reviewed_at: datetime | None


class OverviewVersionOut(BaseModel):
    number: int
    text: str
    by: str
    at: datetime


class RoundOut(BaseModel):
    id: str
    month: str
    team_id: str
    team_manager_id: str
    service_manager_id: str
    due_on: date
    status: str
    allocations: list[RoundAllocationOut]
    audits: list[RoundAuditOut] = Field(description="Each audit of the round as it stands (empty in lists)")
    qa_sample: list[SampledAuditOut]
    overview: str | None
    overview_history: list[OverviewVersionOut]
    overview_reported_at: datetime | None
    drawn_up_by: str
    created_at: datetime
    version: int


def round_out(r: Any, audits: list[Any] | None = None) -> RoundOut:
    return RoundOut(
        id=r.id, month=r.month, team_id=r.team_id, team_manager_id=r.team_manager_id, service_manager_id=r.service_manager_id, due_on=r.due_on,
        status=r.status.value,
        allocations=[RoundAllocationOut(auditor_id=a.auditor_id, area_of_expertise=a.area_of_expertise, case_ids=a.case_ids, audit_ids=a.audit_ids) for a in r.allocations],
        audits=[RoundAuditOut(audit_id=a.audit_id, completed=a.completed, grade=a.grade.value if a.grade else None) for a in audits or []],
        qa_sample=[
            SampledAuditOut(
                audit_id=s.audit_id, grade=s.grade.value, selected_by=s.selected_by, selected_at=s.selected_at, finding=s.finding,
                agrees_with_grade=s.agrees_with_grade, reviewed_by=s.reviewed_by, reviewed_at=s.reviewed_at,
            ) for s in r.qa_sample
        ],
        overview=r.overview, overview_history=[OverviewVersionOut(number=v.number, text=v.text, by=v.by, at=v.at) for v in r.overview_history],
        overview_reported_at=r.overview_reported_at, drawn_up_by=r.drawn_up_by, created_at=r.created_at, version=r.version,
    )
