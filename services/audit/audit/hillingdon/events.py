"""Integration events of Hillingdon's QA framework (reviews with service managers, the monthly and
themed reports, crib sheets and the service manager's monthly sessions). Ids and facts only:
never a child's name, never what a manager wrote (read it through the API)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from shared.events import EventData, EventType
from shared.mongo import Transaction

from .domain import crib_sheet as cs
from .domain import report as rp
from .domain import review as rv
from .domain.themed import ThemedPeriod

SERVICE = "audit"


class PracticeReviewOpened(EventData):
    """A task for the case's service manager: review the case with them and report to the assistant director."""

    review_id: str
    """The practice review's id in the audit service."""
    audit_id: str
    case_ref: str
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


class PracticeReviewReported(EventData):
    review_id: str
    """The practice review's id in the audit service."""
    audit_id: str
    case_ref: str
    grade: str
    """The audit's grade that opened the review, on the Ofsted scale."""
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


def _type(name: str, model: type[EventData], summary: str) -> EventType:
    return EventType(name, 1, model, summary, SERVICE)


class PracticeReviewReassigned(EventData):
    """QA staff named the review's service manager or assistant director (the directory could not)."""

    review_id: str
    """The practice review's id in the audit service."""
    audit_id: str
    case_ref: str
    grade: str
    """The audit's grade that opened the review, on the Ofsted scale."""
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


class PracticeReviewVerified(EventData):
    """The QA auditor verified the action taken after the review was reported (Appendix D)."""

    review_id: str
    """The practice review's id in the audit service."""
    audit_id: str
    case_ref: str
    grade: str
    """The audit's grade that opened the review, on the Ofsted scale."""
    service_manager_id: str | None = None
    """The review's service manager; null when unknown."""
    assistant_director_id: str | None = None
    """The assistant director the review reported to; null when unknown."""
    verified_by: str
    """The QA auditor who verified the action taken."""
    verified_at: datetime


PRACTICE_REVIEW_OPENED = _type(
    "audit.practice-review.opened", PracticeReviewOpened,
    "A Hillingdon audit graded requires improvement or inadequate: the case's service manager is to review it.",
)
PRACTICE_REVIEW_REASSIGNED = _type(
    "audit.practice-review.reassigned", PracticeReviewReassigned,
    "QA staff named the service manager or assistant director of a practice review.",
)
PRACTICE_REVIEW_VERIFIED = _type(
    "audit.practice-review.verified", PracticeReviewVerified, "The QA auditor verified the action taken after a practice review was reported.",
)
PRACTICE_REVIEW_REPORTED = _type(
    "audit.practice-review.reported", PracticeReviewReported,
    "The service manager reported the review's outcome and actions to the assistant director (the review is closed).",
)
MONTHLY_REPORT_ISSUED = _type("audit.monthly-report.issued", ReportIssued, "The lead QA auditor issued the monthly audit report (PDF).")
THEMED_REPORT_ISSUED = _type(
    "audit.themed-report.issued", ThemedReportIssued, "The lead QA auditor issued a themed audit findings-and-recommendations report (PDF)."
)
CRIB_SHEET_CHECKED = _type("audit.crib-sheet.checked", CribSheetChecked, "A manager checked a case's crib sheet in supervision.")
MANAGEMENT_SESSION_REPORTED = _type(
    "audit.management-session.reported", ManagementSessionReported,
    "A service manager's monthly quality assurance session with a team manager was reported to the assistant director.",
)

EVENTS: list[EventType] = [
    PRACTICE_REVIEW_OPENED, PRACTICE_REVIEW_REASSIGNED, PRACTICE_REVIEW_REPORTED, PRACTICE_REVIEW_VERIFIED, MONTHLY_REPORT_ISSUED, THEMED_REPORT_ISSUED, CRIB_SHEET_CHECKED,
    MANAGEMENT_SESSION_REPORTED,
]


# --- from domain events to integration events --------------------------------------------------
# From what a Hillingdon record recorded (``Happened``) to the integration events it publishes,
# staged in the same transaction as the record (the outbox).

def record(tx: Transaction, thing: Any) -> None:
    """Stage what ``thing`` recorded. Its events are left in place: a transaction that is run
    again after a transient conflict (``UnitOfWork.run``) stages them again."""
    for happened in thing.events:
        staged = _integration(thing, happened.name)
        if staged is not None:
            event_type, data, subject = staged
            tx.record(event_type, data, subject=subject)


def _integration(thing: Any, name: str) -> tuple[Any, Any, str] | None:
    if isinstance(thing, rv.PracticeReview):
        return _review(thing, name)
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
            reported_on=thing.reported_at.date(), reported_at=thing.reported_at,
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
