"""Integration events of Hillingdon's QA framework (reviews with service managers, the monthly and
themed reports, crib sheets and the service manager's monthly sessions). Ids and facts only:
never a child's name, never what a manager wrote (read it through the API)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from shared.calendar import local_date
from shared.events import EventData, EventType
from shared.mongo import Transaction

from ..common.translation import event_type, stage
from .domain import crib_sheet as cs
from .domain import report as rp
from .domain import review as rv
from .domain import single_agency_round as sr
from .domain.themed import ThemedPeriod


class _ReviewEvent(EventData):
    review_id: str
    """The practice review's id in the audit service."""
    audit_id: str
    case_ref: str


class _GradedReviewEvent(_ReviewEvent):
    grade: str
    """The audit's grade that opened the review, on the Ofsted scale."""


class PracticeReviewOpened(_ReviewEvent):
    """A task for the case's service manager: review the case with them and report to the assistant director."""

    team_id: str | None = None
    """The id of the team that holds the child's case; null when unknown."""
    month: str | None = None
    """The audit month (YYYY-MM) of the audit; null for an audit outside a monthly cycle."""
    grade: str
    """The audit's grade that opened the review: requires_improvement, inadequate or inadequate_critical."""
    service_manager_id: str | None = None
    """None when the directory cannot say who it is (QA staff name one)."""
    assistant_director_id: str | None = None
    opened_at: datetime


class PracticeReviewReported(_GradedReviewEvent):
    service_manager_id: str
    """The service manager who reported the review."""
    assistant_director_id: str
    """The assistant director it was reported to."""
    practice_issues: bool
    """True when the review found practice issues."""
    actions_taken: int
    """How many actions were taken."""
    improvement_plan_items: int
    """How many items the improvement plan has."""
    reported_at: datetime


class ReportIssued(EventData):
    report_id: str
    """The report's id in the audit service."""
    period: str
    """``2026-10`` (monthly) or the first month of the bi-monthly period (themed)."""
    title: str
    """The report's title."""
    audits: int
    """How many audits the report covers."""
    completed: int
    """How many of those audits were completed."""
    grades: dict[str, int]
    pdf_path: str
    """Where the report's PDF is read: a path of the audit service (through the gateway: /api/v1/audit + this path without /v1)."""
    issued_by: str
    """The lead QA auditor who issued the report."""
    issued_at: datetime


class ThemedReportIssued(ReportIssued):
    theme: str
    """The theme the audits looked at, e.g. supervision."""
    period_months: list[str]
    """The months (YYYY-MM) of the bi-monthly period."""


class CribSheetChecked(EventData):
    crib_sheet_id: str
    """The crib sheet's id in the audit service."""
    case_id: str
    team_id: str | None = None
    """The id of the team that holds the child's case; null when unknown."""
    month: str
    """The month of the supervision, as YYYY-MM."""
    social_worker_id: str
    """The social worker whose case it is."""
    team_manager_id: str
    """The team manager of the supervision."""
    checked_by: str
    """The manager who checked it in supervision."""
    follow_up_points: list[int]
    """Points where a follow-up action was set."""
    checked_at: datetime


class ManagementSessionReported(EventData):
    session_id: str
    """The session's id in the audit service."""
    month: str
    """The month of the session, as YYYY-MM."""
    team_id: str
    service_manager_id: str
    """The service manager who held the session."""
    team_manager_id: str | None = None
    """The team manager the session was with; null when unknown."""
    assistant_director_id: str
    """The assistant director it was reported to."""
    crib_sheet_ids: list[str]
    """The crib sheets looked at in the session."""
    reported_on: date
    """The date it was reported."""
    reported_at: datetime


class PracticeReviewReassigned(_GradedReviewEvent):
    """QA staff named the review's service manager or assistant director (the directory could not)."""

    month: str | None = None
    """The audit month (YYYY-MM) of the audit; null for an audit outside a monthly cycle."""
    service_manager_id: str | None = None
    """The review's service manager now; null while nobody is named."""
    assistant_director_id: str | None = None
    """The assistant director the review reports to now; null while nobody is named."""
    service_manager_changed: bool
    """The review is now another service manager's (their task replaces the previous one's)."""
    reassigned_by: str
    """The QA staff member who named them."""
    reassigned_at: datetime


class PracticeReviewVerified(_GradedReviewEvent):
    """The QA auditor verified the action taken after the review was reported (Appendix D)."""

    service_manager_id: str | None = None
    """The review's service manager; null when unknown."""
    assistant_director_id: str | None = None
    """The assistant director the review reported to; null when unknown."""
    verified_by: str
    """The QA auditor who verified the action taken."""
    verified_at: datetime


PRACTICE_REVIEW_OPENED = event_type(
    "audit.practice-review.opened", PracticeReviewOpened,
    "A Hillingdon audit graded requires improvement or inadequate: the case's service manager is to review it.",
)
PRACTICE_REVIEW_REASSIGNED = event_type(
    "audit.practice-review.reassigned", PracticeReviewReassigned,
    "QA staff named the service manager or assistant director of a practice review.",
)
PRACTICE_REVIEW_VERIFIED = event_type(
    "audit.practice-review.verified", PracticeReviewVerified, "The QA auditor verified the action taken after a practice review was reported.",
)
PRACTICE_REVIEW_REPORTED = event_type(
    "audit.practice-review.reported", PracticeReviewReported,
    "The service manager reported the review's outcome and actions to the assistant director (the review is closed).",
)
MONTHLY_REPORT_ISSUED = event_type("audit.monthly-report.issued", ReportIssued, "The lead QA auditor issued the monthly audit report (PDF).")
THEMED_REPORT_ISSUED = event_type(
    "audit.themed-report.issued", ThemedReportIssued, "The lead QA auditor issued a themed audit findings-and-recommendations report (PDF)."
)
CRIB_SHEET_CHECKED = event_type("audit.crib-sheet.checked", CribSheetChecked, "A manager checked a case's crib sheet in supervision.")
MANAGEMENT_SESSION_REPORTED = event_type(
    "audit.management-session.reported", ManagementSessionReported,
    "A service manager's monthly quality assurance session with a team manager was reported to the assistant director.",
)

class RoundAllocation(EventData):
    auditor_id: str
    """The peer auditor (a service manager, team manager, IRO, CP chair or assistant director)."""
    audit_ids: list[str]
    """The audits of the three cases allocated to them (each also announced by ``audit.audit.allocated``)."""


class SingleAgencyRoundAllocated(EventData):
    """The QA team's case list of a team's single-agency audit round was allocated (Appendix D)."""

    round_id: str
    """The single-agency audit round (one team's month)."""
    month: str
    """The round's month (YYYY-MM)."""
    team_id: str
    team_manager_id: str
    """The team's manager, who completes the overview of the findings."""
    service_manager_id: str
    """The service manager the overview is reported to."""
    due_on: date
    """The audits are due two months on: the end of the month after the round's month."""
    allocations: list[RoundAllocation]
    """Each peer auditor with the audits of their three cases."""
    drawn_up_by: str
    allocated_at: datetime


class SingleAgencyRoundSampled(EventData):
    """The QA team chose audits of the round graded good or above to review."""

    round_id: str
    """The single-agency audit round (one team's month)."""
    month: str
    team_id: str
    audit_ids: list[str]
    """Every audit of the round's QA sample so far."""
    selected_by: str
    selected_at: datetime


class SingleAgencySampleReviewed(EventData):
    """The QA team reviewed one audit of the round's sample (graded good or above)."""

    round_id: str
    """The single-agency audit round (one team's month)."""
    audit_id: str
    """The audit reviewed."""
    agrees_with_grade: bool
    """Whether the QA team's review agrees with the audit's grade."""
    reviewed_by: str
    reviewed_at: datetime


class SingleAgencyOverviewReported(EventData):
    """The team manager reported the overview of the findings of the round's audits to the service manager."""

    round_id: str
    """The single-agency audit round (one team's month)."""
    month: str
    team_id: str
    team_manager_id: str
    service_manager_id: str
    audit_ids: list[str]
    """The audits the overview covers."""
    reported_at: datetime


SINGLE_AGENCY_ROUND_ALLOCATED = event_type(
    "audit.single-agency-round.allocated", SingleAgencyRoundAllocated,
    "Hillingdon's single-agency audit round: the QA team's case list allocated, three cases each, due in two months.",
)
SINGLE_AGENCY_ROUND_SAMPLED = event_type(
    "audit.single-agency-round.sampled", SingleAgencyRoundSampled, "The QA team chose a sample of the round's audits graded good or above to review.",
)
SINGLE_AGENCY_SAMPLE_REVIEWED = event_type(
    "audit.single-agency-round.sample-reviewed", SingleAgencySampleReviewed, "The QA team reviewed an audit of its sample.",
)
SINGLE_AGENCY_OVERVIEW_REPORTED = event_type(
    "audit.single-agency-overview.reported", SingleAgencyOverviewReported,
    "The team manager reported the overview of the findings of the round's audits to the service manager.",
)

EVENTS: list[EventType] = [
    PRACTICE_REVIEW_OPENED, PRACTICE_REVIEW_REASSIGNED, PRACTICE_REVIEW_REPORTED, PRACTICE_REVIEW_VERIFIED, MONTHLY_REPORT_ISSUED, THEMED_REPORT_ISSUED, CRIB_SHEET_CHECKED,
    MANAGEMENT_SESSION_REPORTED, SINGLE_AGENCY_ROUND_ALLOCATED, SINGLE_AGENCY_ROUND_SAMPLED, SINGLE_AGENCY_SAMPLE_REVIEWED,
    SINGLE_AGENCY_OVERVIEW_REPORTED,
]


# --- from domain events to integration events --------------------------------------------------
# From what a Hillingdon record recorded (``Happened``) to the integration events it publishes,
# staged in the same transaction as the record (the outbox).

def record(tx: Transaction, thing: Any) -> None:
    """Stage what ``thing`` recorded. Its events are left in place: a transaction that is run
    again after a transient conflict (``UnitOfWork.run``) stages them again."""
    stage(tx, lambda happened: _integration(thing, happened.name), thing.events)


def _integration(thing: Any, name: str) -> tuple[Any, Any, str] | None:
    if isinstance(thing, rv.PracticeReview):
        return _review(thing, name)
    if isinstance(thing, sr.SingleAgencyRound):
        return _round(thing, name)
    if isinstance(thing, rp.EditableReport) and name == rp.ISSUED:
        return _report(thing)
    if isinstance(thing, cs.CribSheet) and name == cs.CHECKED:
        return CRIB_SHEET_CHECKED, CribSheetChecked(
            crib_sheet_id=thing.id, case_id=thing.case_id, team_id=thing.team_id, month=thing.month, social_worker_id=thing.social_worker_id,
            team_manager_id=thing.team_manager_id, checked_by=thing.checked_by or "",
            follow_up_points=sorted(int(k) for k, e in thing.entries.items() if e.follow_up), checked_at=thing.checked_at,
        ), f"crib-sheet/{thing.id}"
    if isinstance(thing, cs.ManagementSession) and name == cs.REPORTED and thing.reported_at is not None:
        return MANAGEMENT_SESSION_REPORTED, ManagementSessionReported(
            session_id=thing.id, month=thing.month, team_id=thing.team_id, service_manager_id=thing.service_manager_id,
            team_manager_id=thing.team_manager_id, assistant_director_id=thing.assistant_director_id or "", crib_sheet_ids=thing.crib_sheet_ids,
            reported_on=local_date(thing.reported_at), reported_at=thing.reported_at,
        ), f"management-session/{thing.id}"
    return None


def _review(review: rv.PracticeReview, name: str) -> tuple[Any, Any, str] | None:
    subject = f"practice-review/{review.id}"
    if name == rv.OPENED:
        return PRACTICE_REVIEW_OPENED, PracticeReviewOpened(
            review_id=review.id, audit_id=review.audit_id, case_ref=review.case_ref, team_id=review.team_id, month=review.month,
            grade=review.grade.value, service_manager_id=review.service_manager_id, assistant_director_id=review.assistant_director_id,
            opened_at=review.opened_at,
        ), subject
    if name in (rv.REASSIGNED, rv.REASSIGNED_TO_SERVICE_MANAGER):
        return PRACTICE_REVIEW_REASSIGNED, PracticeReviewReassigned(
            review_id=review.id, audit_id=review.audit_id, case_ref=review.case_ref, grade=review.grade.value, month=review.month,
            service_manager_id=review.service_manager_id, assistant_director_id=review.assistant_director_id,
            service_manager_changed=name == rv.REASSIGNED_TO_SERVICE_MANAGER, reassigned_by=review.updated_by, reassigned_at=review.updated_at,
        ), subject
    if name == rv.VERIFIED and review.verified_by is not None and review.verified_at is not None:
        return PRACTICE_REVIEW_VERIFIED, PracticeReviewVerified(
            review_id=review.id, audit_id=review.audit_id, case_ref=review.case_ref, grade=review.grade.value,
            service_manager_id=review.service_manager_id, assistant_director_id=review.assistant_director_id,
            verified_by=review.verified_by, verified_at=review.verified_at,
        ), subject
    if name == rv.REPORTED and review.outcome is not None and review.reported_at is not None:
        return PRACTICE_REVIEW_REPORTED, PracticeReviewReported(
            review_id=review.id, audit_id=review.audit_id, case_ref=review.case_ref, grade=review.grade.value,
            service_manager_id=review.service_manager_id or "", assistant_director_id=review.assistant_director_id or "",
            practice_issues=review.outcome.practice_issues, actions_taken=len(review.outcome.actions_taken),
            improvement_plan_items=len(review.outcome.improvement_plan), reported_at=review.reported_at,
        ), subject
    return None


def _report(report: rp.EditableReport) -> tuple[Any, Any, str]:
    f = report.figures
    common = {
        "report_id": report.id, "period": report.period, "title": report.title, "audits": f["audits"], "completed": f["completed"],
        "grades": f["grades"], "issued_by": report.issued_by or "", "issued_at": report.issued_at,
    }
    if report.kind is rp.ReportKind.MONTHLY:
        path = f"/v1/hillingdon/monthly-reports/{report.period}/pdf"
        return MONTHLY_REPORT_ISSUED, ReportIssued(**common, pdf_path=path), f"report/{report.id}"
    months = [str(m) for m in ThemedPeriod.parse(report.period).months]
    path = f"/v1/themed/reports/{report.period}/pdf"
    return THEMED_REPORT_ISSUED, ThemedReportIssued(**common, pdf_path=path, theme=str(f.get("theme", "")), period_months=months), f"report/{report.id}"


def _round(r: sr.SingleAgencyRound, name: str) -> tuple[Any, Any, str] | None:
    subject = f"single-agency-round/{r.id}"
    at = r.updated_at or r.created_at
    if name == sr.ALLOCATED:
        return SINGLE_AGENCY_ROUND_ALLOCATED, SingleAgencyRoundAllocated(
            round_id=r.id, month=r.month, team_id=r.team_id, team_manager_id=r.team_manager_id, service_manager_id=r.service_manager_id,
            due_on=r.due_on, allocations=[RoundAllocation(auditor_id=a.auditor_id, audit_ids=a.audit_ids) for a in r.allocations],
            drawn_up_by=r.drawn_up_by, allocated_at=r.created_at,
        ), subject
    if name == sr.SAMPLED:
        return SINGLE_AGENCY_ROUND_SAMPLED, SingleAgencyRoundSampled(
            round_id=r.id, month=r.month, team_id=r.team_id, audit_ids=[s.audit_id for s in r.qa_sample], selected_by=r.updated_by or "", selected_at=at,
        ), subject
    if name.startswith(f"{sr.SAMPLE_REVIEWED}/"):
        audit_id = name.removeprefix(f"{sr.SAMPLE_REVIEWED}/")
        reviewed = next((s for s in r.qa_sample if s.audit_id == audit_id), None)
        if reviewed is None or reviewed.reviewed_at is None or reviewed.agrees_with_grade is None:
            return None
        return SINGLE_AGENCY_SAMPLE_REVIEWED, SingleAgencySampleReviewed(
            round_id=r.id, audit_id=reviewed.audit_id, agrees_with_grade=reviewed.agrees_with_grade, reviewed_by=reviewed.reviewed_by or "",
            reviewed_at=reviewed.reviewed_at,
        ), subject
    if name == sr.OVERVIEW_REPORTED and r.overview_reported_at is not None:
        return SINGLE_AGENCY_OVERVIEW_REPORTED, SingleAgencyOverviewReported(
            round_id=r.id, month=r.month, team_id=r.team_id, team_manager_id=r.team_manager_id, service_manager_id=r.service_manager_id,
            audit_ids=r.audit_ids(), reported_at=r.overview_reported_at,
        ), subject
    return None
