"""From what a Hillingdon record recorded (``Happened``) to the integration events it publishes,
staged in the same transaction as the record (the outbox)."""

from __future__ import annotations

from typing import Any

from shared.mongo import Transaction

from . import events as ie
from .domain import crib_sheet as cs
from .domain import report as rp
from .domain import review as rv
from .domain.themed import ThemedPeriod


def record(tx: Transaction, thing: Any) -> None:
    for happened in thing.events:
        staged = _integration(thing, happened.name)
        if staged is not None:
            event_type, data, subject = staged
            tx.record(event_type, data, subject=subject)
    thing.events.clear()


def _integration(thing: Any, name: str) -> tuple[Any, Any, str] | None:
    if isinstance(thing, rv.PracticeReview):
        return _review(thing, name)
    if isinstance(thing, rp.EditableReport) and name == rp.ISSUED:
        return _report(thing)
    if isinstance(thing, cs.CribSheet) and name == cs.CHECKED:
        return ie.CRIB_SHEET_CHECKED, ie.CribSheetChecked(
            crib_sheet_id=thing.id, case_id=thing.case_id, team_id=thing.team_id, month=thing.month, social_worker_id=thing.social_worker_id,
            team_manager_id=thing.team_manager_id, checked_by=thing.checked_by or "",
            follow_up_points=sorted(int(k) for k, e in thing.entries.items() if e.follow_up), checked_at=thing.checked_at,
        ), f"crib-sheet/{thing.id}"
    if isinstance(thing, cs.ManagementSession) and name == cs.REPORTED and thing.reported_at is not None:
        return ie.MANAGEMENT_SESSION_REPORTED, ie.ManagementSessionReported(
            session_id=thing.id, month=thing.month, team_id=thing.team_id, service_manager_id=thing.service_manager_id,
            team_manager_id=thing.team_manager_id, assistant_director_id=thing.assistant_director_id or "", crib_sheet_ids=thing.crib_sheet_ids,
            reported_on=thing.reported_at.date(), reported_at=thing.reported_at,
        ), f"management-session/{thing.id}"
    return None


def _review(review: rv.PracticeReview, name: str) -> tuple[Any, Any, str] | None:
    subject = f"practice-review/{review.id}"
    if name == rv.OPENED:
        return ie.PRACTICE_REVIEW_OPENED, ie.PracticeReviewOpened(
            review_id=review.id, audit_id=review.audit_id, case_ref=review.case_ref, team_id=review.team_id, month=review.month,
            grade=review.grade.value, service_manager_id=review.service_manager_id, assistant_director_id=review.assistant_director_id,
            opened_at=review.opened_at,
        ), subject
    if name in (rv.REASSIGNED, rv.REASSIGNED_TO_SERVICE_MANAGER):
        return ie.PRACTICE_REVIEW_REASSIGNED, ie.PracticeReviewReassigned(
            review_id=review.id, audit_id=review.audit_id, case_ref=review.case_ref, grade=review.grade.value, month=review.month,
            service_manager_id=review.service_manager_id, assistant_director_id=review.assistant_director_id,
            service_manager_changed=name == rv.REASSIGNED_TO_SERVICE_MANAGER, reassigned_by=review.updated_by, reassigned_at=review.updated_at,
        ), subject
    if name == rv.VERIFIED and review.verified_by is not None and review.verified_at is not None:
        return ie.PRACTICE_REVIEW_VERIFIED, ie.PracticeReviewVerified(
            review_id=review.id, audit_id=review.audit_id, case_ref=review.case_ref, grade=review.grade.value,
            service_manager_id=review.service_manager_id, assistant_director_id=review.assistant_director_id,
            verified_by=review.verified_by, verified_at=review.verified_at,
        ), subject
    if name == rv.REPORTED and review.outcome is not None and review.reported_at is not None:
        return ie.PRACTICE_REVIEW_REPORTED, ie.PracticeReviewReported(
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
        return ie.MONTHLY_REPORT_ISSUED, ie.ReportIssued(**common, pdf_path=path), f"report/{report.id}"
    months = [str(m) for m in ThemedPeriod.parse(report.period).months]
    path = f"/v1/themed/reports/{report.period}/pdf"
    return ie.THEMED_REPORT_ISSUED, ie.ThemedReportIssued(**common, pdf_path=path, theme=str(f.get("theme", "")), period_months=months), f"report/{report.id}"
