"""Integration events of Hillingdon's QA framework (reviews with service managers, the monthly and
themed reports, crib sheets and the service manager's monthly sessions). Ids and facts only:
never a child's name, never what a manager wrote (read it through the API)."""

from __future__ import annotations

from datetime import date, datetime

from shared.events import EventData, EventType

SERVICE = "audit"


class PracticeReviewOpened(EventData):
    """A task for the case's service manager: review the case with them and report to the assistant director."""

    review_id: str
    audit_id: str
    case_ref: str
    team_id: str | None = None
    month: str | None = None
    grade: str
    #: None when the directory cannot say who it is (QA staff name one).
    service_manager_id: str | None = None
    assistant_director_id: str | None = None
    opened_at: datetime


class PracticeReviewReported(EventData):
    review_id: str
    audit_id: str
    case_ref: str
    grade: str
    service_manager_id: str
    assistant_director_id: str
    practice_issues: bool
    actions_taken: int
    improvement_plan_items: int
    reported_at: datetime


class ReportIssued(EventData):
    report_id: str
    #: ``2026-10`` (monthly) or the first month of the bi-monthly period (themed).
    period: str
    title: str
    audits: int
    completed: int
    grades: dict[str, int]
    pdf_path: str
    issued_by: str
    issued_at: datetime


class ThemedReportIssued(ReportIssued):
    theme: str
    period_months: list[str]


class CribSheetChecked(EventData):
    crib_sheet_id: str
    case_id: str
    team_id: str | None = None
    month: str
    social_worker_id: str
    team_manager_id: str
    checked_by: str
    #: Points where a follow-up action was set.
    follow_up_points: list[int]
    checked_at: datetime


class ManagementSessionReported(EventData):
    session_id: str
    month: str
    team_id: str
    service_manager_id: str
    team_manager_id: str | None = None
    assistant_director_id: str
    crib_sheet_ids: list[str]
    reported_on: date
    reported_at: datetime


def _type(name: str, model: type[EventData], summary: str) -> EventType:
    return EventType(name, 1, model, summary, SERVICE)


class PracticeReviewReassigned(EventData):
    """QA staff named the review's service manager or assistant director (the directory could not)."""

    review_id: str
    audit_id: str
    case_ref: str
    grade: str
    month: str | None = None
    service_manager_id: str | None = None
    assistant_director_id: str | None = None
    #: The review is now another service manager's (their task replaces the previous one's).
    service_manager_changed: bool
    reassigned_by: str
    reassigned_at: datetime


class PracticeReviewVerified(EventData):
    """The QA auditor verified the action taken after the review was reported (Appendix D)."""

    review_id: str
    audit_id: str
    case_ref: str
    grade: str
    service_manager_id: str | None = None
    assistant_director_id: str | None = None
    verified_by: str
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
