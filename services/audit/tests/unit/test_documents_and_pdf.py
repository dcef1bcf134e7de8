"""An audit reads back from its stored document exactly as it was written, and its PDFs hold what
each party wrote and graded."""

from __future__ import annotations

import io
from datetime import UTC, datetime

from audit.case_audit.domain.audit import OfficerPurpose
from audit.case_audit.domain.moderation import Grading
from audit.case_audit.domain.routing import CopyStage, Recipient
from audit.case_audit.pdf import render
from audit.case_audit.store import from_document, to_document
from audit.common.grades import Grade
from pypdf import PdfReader

from .conftest import T0, in_moderation, new_audit

NAMES = {"P-TM": "Olu Bankole", "P-PR": "Priya Rao"}


def _text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def _moderated():
    audit = in_moderation()
    audit.escalate_moderation(by="P-PR", reason="No agreement", at=T0)
    audit.appoint_officer(purpose=OfficerPurpose.MODERATION, officer_id="P-PDO", by="P-QA", by_roles=frozenset({"lead_qa_auditor"}), at=T0)
    grading = Grading(
        section_grades={k: Grade.REQUIRES_IMPROVEMENT for k in audit.form.graded_sections(by_peer_reviewer=True)},
        overall_grade=Grade.REQUIRES_IMPROVEMENT, comment="Assessment needs analysis.",
    )
    audit.record_final_grading(by="P-PDO", grading=grading, at=T0)
    audit.route_copy(stage=CopyStage.MODERATED, pdf_id="pdf-3", recipients=[Recipient("P-SM", ("accountable_service_manager",))], at=T0)
    return audit


def test_a_fresh_and_a_fully_moderated_audit_round_trip_through_their_documents() -> None:
    for audit in (new_audit(), _moderated()):
        audit.version = 7
        doc = to_document(audit)
        again = from_document(doc)
        assert again == audit
        assert doc["viewers"] == audit.viewers() and doc["status"] == audit.status.value


def test_the_stage_1_pdf_holds_the_auditors_answers_and_grades() -> None:
    audit = in_moderation()
    text = _text(render(audit, CopyStage.AUDIT, names=NAMES, at=datetime(2026, 10, 2, tzinfo=UTC)))
    assert "Online peer review case file audit" in text
    assert "Stage 1: audit" in text and "Olu Bankole" in text
    assert "Auditor's grade: Good" in text
    assert "Peer reviewer's" not in text  # stage 1 alone: nothing of the peer review
    assert "Risk is well understood" in text


def test_the_side_by_side_pdf_holds_both_parties_grades() -> None:
    audit = in_moderation()
    text = _text(render(audit, CopyStage.PEER_REVIEW, names=NAMES, at=T0))
    assert "Auditor's grade: Good" in text
    assert "Peer reviewer's grade: Requires improvement" in text  # the assessment, graded differently
    assert "Auditor's overall grade: Good" in text and "Peer reviewer's overall grade: Good" in text


def test_the_moderated_pdf_holds_the_final_grading_and_who_gave_it() -> None:
    audit = _moderated()
    content = render(audit, CopyStage.MODERATED, names={**NAMES, "P-PDO": "Paul Dunne"}, at=T0)
    text = _text(content)
    assert "Stage 3: moderation" in text and "Paul Dunne" in text
    assert "Grade of record: Requires improvement" in text
    assert len(content) < 60_000
