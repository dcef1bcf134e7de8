"""What leaves the audit service about a copy and a case note, against real MongoDB and RabbitMQ.

A routed copy's event carries no document, only where an entitled person fetches the PDF; the PDF
route answers its recipients and the audit's parties, and 404 to anyone else. A multi-agency audit
taken to completion (an inadequate (critical) grade: officer, confirmation, action, escalation,
resolution) publishes nothing that holds the child's case id or team beside its code, and no
case-note summary: the note is kept with the audit, read by the coordinator and the auditor only.
"""

from __future__ import annotations

import io
from typing import Any

from audit.case_audit import events as ie
from audit.main import create_app
from pypdf import PdfReader

from devstack.testing import EventCapture, Infrastructure, running_service

from .conftest import QA_OFFICER, clock, complete, seed_directory

CASE, CASE_TEAM = "C-3001", "T-CP"
PROBLEM = "application/problem+json"


def _not_found(response: Any) -> None:
    assert response.status_code == 404, response.text
    assert response.headers["content-type"].startswith(PROBLEM)


def _service_path(document_path: str) -> str:
    """The audit service's own route of a gateway path (the gateway forwards /api/v1/audit/<p> to /v1/<p>)."""
    assert document_path.startswith("/api/v1/audit/")
    return "/v1/" + document_path.removeprefix("/api/v1/audit/")


async def test_a_copys_pdf_is_read_by_its_recipients_and_the_audits_parties_and_no_one_else(service_env, capture: EventCapture) -> None:  # type: ignore[no-untyped-def]
    async with running_service(lambda: create_app(clock=clock())) as svc:
        await seed_directory(svc.db)
        http = svc.http
        qa = svc.as_person(QA_OFFICER[0], roles=QA_OFFICER[1])
        auditor = svc.as_person("P-TM3", roles=["team_manager", "auditor"])
        created = await http.post("/v1/audits", json={"tool_id": "hillingdon-single-agency", "case_id": CASE, "auditor_id": "P-TM3"}, headers=qa)
        assert created.status_code == 201, created.text
        audit_id, form = created.json()["id"], created.json()["form"]
        _not_found(await http.get(f"/v1/audits/{audit_id}/case-note", headers=auditor))  # not completed: no note yet
        saved = await http.put(f"/v1/audits/{audit_id}/stage1", json=complete(form, grade="good"), headers={**auditor, "If-Match": created.headers["ETag"]})
        done = await http.post(f"/v1/audits/{audit_id}/stage1/submit", headers={**auditor, "If-Match": saved.headers["ETag"]})
        assert done.status_code == 200 and done.json()["status"] == "completed", done.text

        [copy] = await capture.wait_for(ie.COPY_ROUTED.type, 1)
        assert copy.type == "audit.copy.routed.v2" and capture.of_type("audit.copy.routed.v1") == []
        routed = copy.data
        assert "P-SM" in routed["recipient_ids"] and "P-TM4" not in routed["recipient_ids"]
        assert set(routed) == {
            "audit_id", "case_ref", "programme", "coded_case", "stage", "pdf_id", "document_path", "recipients", "recipient_ids", "grade", "routed_at",
        }
        assert routed["document_path"] == f"/api/v1/audit/audits/{audit_id}/pdfs/{routed['pdf_id']}" and routed["coded_case"] is False
        url = _service_path(routed["document_path"])

        # A recipient who is otherwise no party to the audit reads the PDF; QA staff too (they read every audit).
        recipient = svc.as_person("P-SM", roles=["service_manager"])
        got = await http.get(url, headers=recipient)
        assert got.status_code == 200 and got.headers["content-type"] == "application/pdf" and got.content.startswith(b"%PDF")
        assert got.headers["etag"] == f'"{routed["pdf_id"]}"' and "private" in got.headers["cache-control"]
        again = await http.get(url, headers={**recipient, "If-None-Match": got.headers["etag"]})
        assert again.status_code == 304 and again.content == b""
        assert (await http.get(url, headers=qa)).content == got.content
        # The note of an audit whose child is not coded: anyone who may read the audit.
        note = await http.get(f"/v1/audits/{audit_id}/case-note", headers=recipient)
        assert note.status_code == 200 and note.json()["case_id"] == CASE and note.json()["note_type"] == "Case Audit - Online Audit Programme"

        # Anyone else: 404, the PDF's existence is not theirs to know; so is a PDF of another id.
        stranger = svc.as_person("P-TM4", roles=["team_manager", "auditor", "service_manager"])
        _not_found(await http.get(url, headers=stranger))
        _not_found(await http.get(url, headers={**stranger, "If-None-Match": got.headers["etag"]}))
        _not_found(await http.get(f"/v1/audits/{audit_id}/case-note", headers=stranger))
        _not_found(await http.get(f"/v1/audits/{audit_id}/pdfs/{'0' * 32}", headers=recipient))


async def test_a_multi_agency_audit_publishes_nothing_that_names_the_child_and_keeps_its_case_note_for_the_coordinator(  # type: ignore[no-untyped-def]
    service_env, infrastructure: Infrastructure, namespace: str, capture: EventCapture
) -> None:
    async with EventCapture(infrastructure.amqp_url, namespace, integrator_view=True) as integrator, running_service(lambda: create_app(clock=clock())) as svc:
        await seed_directory(svc.db)
        http = svc.http
        qa = svc.as_person(QA_OFFICER[0], roles=QA_OFFICER[1])
        coordinator = svc.as_person("P-BDM", roles=["qa_officer"])
        auditor = svc.as_person("P-X", roles=["team_manager", "auditor"])
        manager = svc.as_person("P-SM", roles=["service_manager"])
        officer = svc.as_person("P-PDO", roles=["practice_development_officer"])
        lead = svc.as_person("P-QASM", roles=["service_manager", "lead_qa_auditor"])
        stranger = svc.as_person("P-TM4", roles=["team_manager", "auditor", "service_manager"])
        admin = svc.as_person("P-ADMIN", roles=["administrator"])

        set_up = {
            "theme": "Neglect", "case_id": CASE, "auditor_id": "P-X", "coordinator_id": "P-BDM",
            "partners": [{"agency": "health", "name": "Hillingdon Hospital", "representative_id": "P-HEALTH"},
                         {"agency": "childrens_social_care", "name": "Children's Social Care", "representative_id": "P-SM"}],
        }
        created = await http.post("/v1/multi-agency/audits", json=set_up, headers=qa)
        assert created.status_code == 201, created.text
        audit_id, code = created.json()["id"], created.json()["case_ref"]
        audit = (await http.get(f"/v1/audits/{audit_id}", headers=auditor)).json()
        assert audit["case_id"] == CASE and audit["case_ref"] == code

        # Stage 1 graded inadequate (critical): the audit completes; an officer is to confirm the grade and
        # the accountable service manager owns an action, escalated a month later, then resolved.
        plan = [{"action": "Health visitors refer to early help within 5 days.", "owner": "Health", "due": "2026-12-01"}]
        work = complete(audit["form"], grade="inadequate_critical", action_plan=plan)
        saved = await http.put(f"/v1/audits/{audit_id}/stage1", json=work, headers={**auditor, "If-Match": '"1"'})
        assert saved.status_code == 200, saved.text
        done = await http.post(f"/v1/audits/{audit_id}/stage1/submit", headers={**auditor, "If-Match": saved.headers["ETag"]})
        assert done.status_code == 200 and done.json()["status"] == "completed", done.text
        assert done.json()["critical_confirmation"]["officer_id"] == "P-PDO" and done.json()["inadequate_action"]["owner_id"] == "P-SM"
        confirmed = await http.post(
            f"/v1/audits/{audit_id}/critical-confirmation", json={"confirmed": True, "comment": "Confirmed."}, headers={**officer, "If-Match": done.headers["ETag"]}
        )
        assert confirmed.status_code == 200, confirmed.text
        escalated = await http.post("/v1/inadequate-actions/escalations", json={"today": "2026-11-01"}, headers=admin)
        assert escalated.json() == {"escalated": [audit_id]}
        current = await http.get(f"/v1/audits/{audit_id}", headers=manager)
        resolved = await http.post(
            f"/v1/audits/{audit_id}/inadequate-action/resolve", json={"note": "Pathway changed."}, headers={**manager, "If-Match": current.headers["ETag"]}
        )
        assert resolved.status_code == 200, resolved.text

        for event_type in (ie.AUDIT_ALLOCATED, ie.AUDIT_SUBMITTED, ie.AUDIT_COMPLETED, ie.COPY_ROUTED, ie.OFFICER_APPOINTED,
                           ie.CRITICAL_GRADE_CONFIRMED, ie.INADEQUATE_ACTION_OPENED, ie.INADEQUATE_ACTION_ESCALATED, ie.INADEQUATE_ACTION_RESOLVED):
            await capture.wait_for(event_type.type, 1)
        await capture.settle(1.0)

        # No event holds the child's case id or team, whatever its type; none is a case-note summary.
        assert capture.events and all(e.data.get("audit_id") == audit_id for e in capture.events)
        for event in capture.events:
            text = event.model_dump_json()
            assert CASE not in text and f'"{CASE_TEAM}"' not in text, event.type
        assert [e.type for e in capture.events if "case-note" in e.type] == []
        [completed] = capture.of_type(ie.AUDIT_COMPLETED.type)
        assert completed.data["case_ref"] == code and completed.data.get("team_id") is None

        # The copy: an internal mailing instruction (no integrator sees it), no document, the case coded.
        [copy] = capture.of_type(ie.COPY_ROUTED.type)
        assert copy.data["coded_case"] is True and copy.data["programme"] == "multi_agency" and copy.data["case_ref"] == code
        assert "pdf_base64" not in copy.data and "P-SM" in copy.data["recipient_ids"]
        assert ie.COPY_ROUTED.internal and integrator.of_type(ie.COPY_ROUTED.type) == []
        assert integrator.of_type(ie.AUDIT_COMPLETED.type), "the integrator's view sees the integrator-visible events"

        # Its PDF: the recipient reads it (the child named by the code only); a stranger gets 404.
        url = _service_path(copy.data["document_path"])
        pdf = await http.get(url, headers=manager)
        assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
        text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)
        assert code in text and CASE not in text
        _not_found(await http.get(url, headers=stranger))

        # The case note, kept with the audit: the coordinator and the auditor read it, with the case id.
        for person in (coordinator, auditor):
            got = await http.get(f"/v1/audits/{audit_id}/case-note", headers=person)
            assert got.status_code == 200, got.text
            note = got.json()
            assert (note["audit_id"], note["case_id"], note["case_ref"], note["author_id"]) == (audit_id, CASE, code, "P-X")
            assert note["analysis"] == "The risk of neglect is well understood and the plan is clear."
            assert "Health visitors refer to early help within 5 days." in note["recommended_actions"]
            assert note["grade"] == "inadequate_critical" and note["note_type"] == "Case Audit - Online Audit Programme"
        # Nobody else, however much of the audit they may read: QA staff, a copy's recipient and action owner, the
        # confirming officer, the lead QA auditor, a stranger.
        for person in (qa, manager, officer, lead, stranger):
            _not_found(await http.get(f"/v1/audits/{audit_id}/case-note", headers=person))
        assert (await http.get(f"/v1/audits/{audit_id}", headers=manager)).json()["case_id"] is None
