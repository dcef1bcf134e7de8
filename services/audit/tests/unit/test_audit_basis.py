"""The basis of an audit's allocation, kept on the audit itself (issue 21): Kent 2, "Each month every
team manager in Specialist Children's Services is allocated a case they are responsible for line
managing to audit", and the programme's fallback, off by default, "that gives such an auditor a case
from their own service they do not manage, marked as such on the audit"."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime

import pytest
from audit.case_audit.domain.audit import AllocationBasis, Audit, CaseFacts
from audit.case_audit.domain.routing import CopyStage
from audit.case_audit.events import AUDIT_ALLOCATED, integration_events
from audit.case_audit.pdf import render
from audit.case_audit.store import from_document, to_document
from pypdf import PdfReader

from .conftest import T0, form

FALLBACK_LINE = "Allocated under the programme's own-service fallback: a case of the auditor's own service they do not line-manage"


def _allocated(basis: AllocationBasis | None) -> Audit:
    f = form()
    return Audit.allocate(
        audit_id="A-1", form=f, case=CaseFacts(case_id="C-3001", case_type=f.case_type, opened_on=T0.date(), team_id="T-CP"),
        auditor_id="P-TM", peer_reviewer_id="P-PR", coordinator_id=None, by="audit-scheduler", at=T0, month="2026-10",
        allocation_key="kent:2026-10:P-TM", basis=basis,
    )


def _pdf_text(audit: Audit) -> str:
    content = render(audit, CopyStage.AUDIT, names={}, at=datetime(2026, 10, 2, tzinfo=UTC))
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)
    return re.sub(r"\s+", " ", text)


@pytest.mark.parametrize("basis", list(AllocationBasis))
def test_the_basis_is_kept_with_the_audit_and_reads_back_from_its_document(basis: AllocationBasis) -> None:
    audit = _allocated(basis)
    audit.version = 1
    again = from_document(to_document(audit))
    assert again.basis is basis and again == audit


def test_an_audit_stored_before_the_basis_was_kept_reads_as_unknown() -> None:
    audit = _allocated(AllocationBasis.LINE_MANAGED)
    audit.version = 1
    doc = to_document(audit)
    del doc["audit"]["basis"]
    assert from_document(doc).basis is None


def test_the_allocation_event_says_the_basis_an_id_level_fact() -> None:
    audit = _allocated(AllocationBasis.OWN_SERVICE)
    [(event_type, data)] = list(integration_events(audit, audit.events))
    assert event_type is AUDIT_ALLOCATED and data.basis == "own_service"
    by_hand = _allocated(None)
    [(_, data)] = list(integration_events(by_hand, by_hand.events))
    assert data.basis is None


def test_the_pdf_marks_an_audit_allocated_under_the_own_service_fallback() -> None:
    text = _pdf_text(_allocated(AllocationBasis.OWN_SERVICE))
    assert FALLBACK_LINE in text


def test_the_pdf_of_a_line_managed_audit_says_so_and_not_the_fallback() -> None:
    text = _pdf_text(_allocated(AllocationBasis.LINE_MANAGED))
    assert "A case the auditor line-manages" in text and "own-service fallback" not in text


def test_the_pdf_of_an_audit_allocated_by_hand_claims_no_basis() -> None:
    text = _pdf_text(_allocated(None))
    assert "Allocation" not in text and "fallback" not in text
