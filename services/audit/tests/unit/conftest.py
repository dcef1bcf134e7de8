"""Builders for the audit domain's unit tests: forms from the shipped tools, complete stage work."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any

import pytest
from audit.case_audit.domain.audit import Audit, CaseFacts
from audit.case_audit.domain.work import Answer, Evidence, StageWork
from audit.common.grades import Grade
from audit.tools.catalogue import HAMPSHIRE, HILLINGDON, KENT, MULTI_AGENCY, shipped_tool
from audit.tools.domain.definition import AuditForm, CaseType, OpenBand

T0 = datetime(2026, 10, 1, 9, 0, tzinfo=UTC)


def form(tool_id: str = KENT, case_type: CaseType = CaseType.CP, band: OpenBand = OpenBand.OVER_3_MONTHS) -> AuditForm:
    return shipped_tool(tool_id).form_for(tool_id, 1, case_type, band)


def complete_work(f: AuditForm, *, grade: Grade = Grade.GOOD, by_peer_reviewer: bool = False, value: str = "yes", **overrides: Any) -> StageWork:
    """A stage with every question answered and every section this party grades graded."""
    answers = {}
    for key, question in f.questions().items():
        answers[key] = Answer(value=value if question.scale.choices else "Seen and recorded.")
    fields: dict[str, Any] = {
        "answers": answers,
        "section_grades": {k: grade for k in f.graded_sections(by_peer_reviewer=by_peer_reviewer)},
        "oversight_comment": "" if by_peer_reviewer else "I supervise monthly; the last two sessions were not recorded.",
        "analysis": "Risk is well understood; plans are clear.",
        "recommendations": "Record supervision on the file.",
        "overall_grade": grade if f.overall_grade else None,
    }
    fields.update(overrides)
    return StageWork(**fields)


def full_evidence(f: AuditForm) -> dict[str, list[Evidence]]:
    """An item of evidence for every standard that takes an evidence list."""
    return {k: [Evidence(what="Risk assessment", when="14/06/2026", where="SWIFT")] for k, q in f.questions().items() if q.evidence_list}


def new_audit(f: AuditForm | None = None, *, peer_reviewer: str | None = "P-PR", coordinator: str | None = None, code: str | None = None) -> Audit:
    f = f or form()
    audit = Audit.allocate(
        audit_id="A-1", form=f,
        case=CaseFacts(case_id="C-3001", case_type=f.case_type, opened_on=date(2026, 1, 5), team_id="T-CP", case_code=code),
        auditor_id="P-TM", peer_reviewer_id=peer_reviewer if f.peer_review else None, coordinator_id=coordinator, by="P-QA", at=T0,
    )
    audit.events.clear()
    return audit


def submitted(f: AuditForm | None = None, grade: Grade = Grade.GOOD) -> Audit:
    audit = new_audit(f)
    audit.save_audit_draft(by="P-TM", work=complete_work(audit.form, grade=grade), at=T0)
    audit.submit_audit(by="P-TM", at=T0)
    audit.events.clear()
    return audit


def in_moderation() -> Audit:
    """A Kent audit whose peer reviewer graded the assessment differently."""
    audit = submitted()
    review = complete_work(audit.form, by_peer_reviewer=True)
    grades = dict(review.section_grades)
    grades["assessment"] = Grade.REQUIRES_IMPROVEMENT
    audit.save_peer_review_draft(by="P-PR", work=replace(review, section_grades=grades), at=T0)
    audit.submit_peer_review(by="P-PR", at=T0)
    audit.events.clear()
    return audit


@pytest.fixture
def kent_cp() -> AuditForm:
    return form()


__all__ = ["HAMPSHIRE", "HILLINGDON", "KENT", "MULTI_AGENCY", "T0"]
