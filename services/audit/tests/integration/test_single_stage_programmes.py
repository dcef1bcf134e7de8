"""Programmes without a peer review: a Hampshire quality practice audit, whose evidence list the
worker and supervisor prepare, completes when the auditor submits it."""

from __future__ import annotations

import io

from audit.case_audit import events as ie
from pypdf import PdfReader

from devstack.testing import EventCapture

from .conftest import QA_OFFICER, complete
from .service import seeded_service


async def test_a_hampshire_audit_with_its_evidence_list_prepared_by_worker_and_supervisor(service_env, capture: EventCapture) -> None:
    async with seeded_service() as svc:
        http = svc.http
        qa = svc.as_person(*QA_OFFICER[:1], roles=QA_OFFICER[1])
        body = {"tool_id": "hampshire-quality-practice", "case_id": "C-3001", "auditor_id": "P-SM", "evidence_preparer_ids": ["P-SW3", "P-TM3"]}
        created = await http.post("/v1/audits", json=body, headers=qa)
        assert created.status_code == 201, created.text
        audit = created.json()
        audit_id, form = audit["id"], audit["form"]
        assert audit["peer_reviewer_id"] is None and not form["peer_review"]

        worker = svc.as_person("P-SW3", roles=["social_worker"])
        evidence = {f"standard_{n:02d}": [{"what": "Risk assessment", "when": "14/06/2026", "where": "SWIFT"}] for n in range(1, 14)}
        listed = await http.put(f"/v1/audits/{audit_id}/evidence", json={"evidence": evidence}, headers={**worker, "If-Match": created.headers["ETag"]})
        assert listed.status_code == 200, listed.text
        refused = await http.put(f"/v1/audits/{audit_id}/stage1", json=complete(form), headers={**worker, "If-Match": listed.headers["ETag"]})
        assert refused.status_code == 403  # the worker lists evidence; the judgement is the auditor's

        auditor = svc.as_person("P-SM", roles=["service_manager"])
        work = complete(form, overall_grade=None, recommendations="")
        saved = await http.put(f"/v1/audits/{audit_id}/stage1", json=work, headers={**auditor, "If-Match": listed.headers["ETag"]})
        gaps = await http.post(f"/v1/audits/{audit_id}/stage1/submit", headers={**auditor, "If-Match": saved.headers["ETag"]})
        assert gaps.status_code == 422 and [e["field"] for e in gaps.json()["errors"]] == ["evidence.standard_14"]
        work["answers"]["standard_14"] = {"value": "n/a"}
        saved = await http.put(f"/v1/audits/{audit_id}/stage1", json=work, headers={**auditor, "If-Match": saved.headers["ETag"]})
        done = await http.post(f"/v1/audits/{audit_id}/stage1/submit", headers={**auditor, "If-Match": saved.headers["ETag"]})
        assert done.status_code == 200, done.text
        assert done.json()["status"] == "completed" and done.json()["grade_of_record"] is None

        [completed] = await capture.wait_for(ie.AUDIT_COMPLETED.type, 1)
        assert completed.data["programme"] == "quality_practice" and completed.data["grade"] is None
        [copy] = await capture.wait_for(ie.COPY_ROUTED.type, 1)
        assert copy.data["stage"] == "audit" and copy.data["recipient_ids"] == ["P-SM", "P-QASM"]
        await capture.wait_for(ie.CASE_NOTE_SUMMARY.type, 1)
        # No document in the event: where the recipient fetches it, through the gateway.
        assert "pdf_base64" not in copy.data and copy.data["document_path"] == f"/api/v1/audit/audits/{audit_id}/pdfs/{copy.data['pdf_id']}"
        pdf = await http.get(f"/v1/audits/{audit_id}/pdfs/{copy.data['pdf_id']}", headers=worker)
        assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
        text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)
        assert "Risk assessment - 14/06/2026 - SWIFT" in text and "Evidence (what, when, where)" in text
