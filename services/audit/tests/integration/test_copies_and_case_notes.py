"""What leaves the audit service about a copy and a case note, against real MongoDB and RabbitMQ.

A routed copy's event carries no document, only where an entitled person fetches the PDF; the PDF
route answers its recipients and the audit's parties, and 404 to anyone else. A multi-agency audit
taken to completion (an inadequate (critical) grade: officer, confirmation, action, escalation,
resolution) publishes nothing that holds the child's case id or team beside its code, and no
case-note summary: the note is kept with the audit, read by the coordinator and the auditor only.
"""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from audit.case_audit import events as ie
from audit.main import create_app
from pypdf import PdfReader

from devstack.testing import EventCapture, Infrastructure, ServiceClient, running_service

from .conftest import QA_OFFICER, clock, complete, seed_directory
from .service import seeded_service

CASE, CASE_TEAM = "C-3001", "T-CP"
PROBLEM = "application/problem+json"


def _not_found(response: Any) -> None:
    assert response.status_code == 404, response.text
    assert response.headers["content-type"].startswith(PROBLEM)


def _service_path(document_path: str) -> str:
    """The audit service's own route of a gateway path (the gateway forwards /api/v1/audit/<p> to /v1/<p>)."""
    assert document_path.startswith("/api/v1/audit/")
    return "/v1/" + document_path.removeprefix("/api/v1/audit/")


async def test_a_copys_pdf_is_read_by_its_recipients_and_the_audits_parties_and_no_one_else(service_env, capture: EventCapture) -> None:
    async with seeded_service() as svc:
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


@dataclass
class MultiAgencyAudit:
    """A multi-agency audit of C-3001 set up by a QA officer, with the people who touch it."""

    svc: ServiceClient
    capture: EventCapture
    integrator: EventCapture
    audit_id: str = ""
    code: str = ""

    def __post_init__(self) -> None:
        self.http = self.svc.http
        self.qa = self.svc.as_person(QA_OFFICER[0], roles=QA_OFFICER[1])
        self.coordinator = self.svc.as_person("P-BDM", roles=["qa_officer"])
        self.auditor = self.svc.as_person("P-X", roles=["team_manager", "auditor"])
        self.manager = self.svc.as_person("P-SM", roles=["service_manager"])
        self.officer = self.svc.as_person("P-PDO", roles=["practice_development_officer"])
        self.lead = self.svc.as_person("P-QASM", roles=["service_manager", "lead_qa_auditor"])
        self.stranger = self.svc.as_person("P-TM4", roles=["team_manager", "auditor", "service_manager"])
        self.admin = self.svc.as_person("P-ADMIN", roles=["administrator"])

    async def set_up(self) -> dict[str, Any]:
        """Set up with two partners; returns the audit as its auditor reads it."""
        set_up = {
            "theme": "Neglect", "case_id": CASE, "auditor_id": "P-X", "coordinator_id": "P-BDM",
            "partners": [{"agency": "health", "name": "Hillingdon Hospital", "representative_id": "P-HEALTH"},
                         {"agency": "childrens_social_care", "name": "Children's Social Care", "representative_id": "P-SM"}],
        }
        created = await self.http.post("/v1/multi-agency/audits", json=set_up, headers=self.qa)
        assert created.status_code == 201, created.text
        self.audit_id, self.code = created.json()["id"], created.json()["case_ref"]
        audit: dict[str, Any] = (await self.http.get(f"/v1/audits/{self.audit_id}", headers=self.auditor)).json()
        return audit

    async def completed(self) -> httpx.Response:
        """Set up; stage 1 graded inadequate (critical) and submitted: the audit completes. Returns the submission."""
        audit = await self.set_up()
        plan = [{"action": "Health visitors refer to early help within 5 days.", "owner": "Health", "due": "2026-12-01"}]
        work = complete(audit["form"], grade="inadequate_critical", action_plan=plan)
        saved = await self.http.put(f"/v1/audits/{self.audit_id}/stage1", json=work, headers={**self.auditor, "If-Match": '"1"'})
        assert saved.status_code == 200, saved.text
        done = await self.http.post(f"/v1/audits/{self.audit_id}/stage1/submit", headers={**self.auditor, "If-Match": saved.headers["ETag"]})
        assert done.status_code == 200 and done.json()["status"] == "completed", done.text
        return done

    async def followed_up(self) -> None:
        """Completed; the officer confirms the grade; the service manager's action is escalated a
        month later, then resolved; and every event published has arrived."""
        done = await self.completed()
        confirmed = await self.http.post(
            f"/v1/audits/{self.audit_id}/critical-confirmation", json={"confirmed": True, "comment": "Confirmed."},
            headers={**self.officer, "If-Match": done.headers["ETag"]},
        )
        assert confirmed.status_code == 200, confirmed.text
        escalated = await self.http.post("/v1/inadequate-actions/escalations", json={"today": "2026-11-01"}, headers=self.admin)
        assert escalated.json() == {"escalated": [self.audit_id]}
        current = await self.http.get(f"/v1/audits/{self.audit_id}", headers=self.manager)
        resolved = await self.http.post(
            f"/v1/audits/{self.audit_id}/inadequate-action/resolve", json={"note": "Pathway changed."},
            headers={**self.manager, "If-Match": current.headers["ETag"]},
        )
        assert resolved.status_code == 200, resolved.text
        for event_type in (ie.AUDIT_ALLOCATED, ie.AUDIT_SUBMITTED, ie.AUDIT_COMPLETED, ie.COPY_ROUTED, ie.OFFICER_APPOINTED,
                           ie.CRITICAL_GRADE_CONFIRMED, ie.INADEQUATE_ACTION_OPENED, ie.INADEQUATE_ACTION_ESCALATED, ie.INADEQUATE_ACTION_RESOLVED):
            await self.capture.wait_for(event_type.type, 1)
        # Every event written has arrived, in both captures: one that is not there was never published.
        await self.capture.flushed(self.svc.db)
        await self.integrator.flushed()

    async def copy(self) -> dict[str, Any]:
        await self.followed_up()
        [copy] = self.capture.of_type(ie.COPY_ROUTED.type)
        data: dict[str, Any] = copy.data
        return data


@pytest.fixture
async def multi_agency(service_env: dict[str, str], infrastructure: Infrastructure, namespace: str, capture: EventCapture) -> AsyncIterator[MultiAgencyAudit]:
    """What an integrator sees (``integrator``) beside every event (``capture``), and the service."""
    async with EventCapture(infrastructure.amqp_url, namespace, integrator_view=True) as integrator, running_service(lambda: create_app(clock=clock())) as svc:
        await seed_directory(svc.db)
        yield MultiAgencyAudit(svc, capture, integrator)


async def test_a_multi_agency_audits_auditor_reads_the_childs_case_beside_its_code(multi_agency: MultiAgencyAudit) -> None:
    audit = await multi_agency.set_up()
    assert audit["case_id"] == CASE and audit["case_ref"] == multi_agency.code


async def test_a_multi_agency_audit_graded_inadequate_critical_gets_an_officer_to_confirm_it_and_an_action_for_the_service_manager(
    multi_agency: MultiAgencyAudit,
) -> None:
    done = (await multi_agency.completed()).json()
    assert done["critical_confirmation"]["officer_id"] == "P-PDO" and done["inadequate_action"]["owner_id"] == "P-SM"


async def test_no_event_of_a_multi_agency_audit_holds_the_childs_case_id_or_team_and_none_is_a_case_note_summary(multi_agency: MultiAgencyAudit) -> None:
    await multi_agency.followed_up()
    capture = multi_agency.capture
    assert capture.events and all(e.data.get("audit_id") == multi_agency.audit_id for e in capture.events)
    for event in capture.events:
        text = event.model_dump_json()
        assert CASE not in text and f'"{CASE_TEAM}"' not in text, event.type
    assert [e.type for e in capture.events if "case-note" in e.type] == []
    [completed] = capture.of_type(ie.AUDIT_COMPLETED.type)
    assert completed.data["case_ref"] == multi_agency.code and completed.data.get("team_id") is None


async def test_the_copy_of_a_multi_agency_audit_is_an_internal_mailing_instruction_with_no_document_and_the_case_coded(
    multi_agency: MultiAgencyAudit,
) -> None:
    copy = await multi_agency.copy()
    assert copy["coded_case"] is True and copy["programme"] == "multi_agency" and copy["case_ref"] == multi_agency.code
    assert "pdf_base64" not in copy and "P-SM" in copy["recipient_ids"]
    assert ie.COPY_ROUTED.internal and multi_agency.integrator.of_type(ie.COPY_ROUTED.type) == []
    assert multi_agency.integrator.of_type(ie.AUDIT_COMPLETED.type), "the integrator's view sees the integrator-visible events"


async def test_the_pdf_of_a_multi_agency_audit_names_the_child_by_the_code_only_and_only_to_its_recipients(multi_agency: MultiAgencyAudit) -> None:
    url = _service_path((await multi_agency.copy())["document_path"])
    pdf = await multi_agency.http.get(url, headers=multi_agency.manager)
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)
    assert multi_agency.code in text and CASE not in text
    _not_found(await multi_agency.http.get(url, headers=multi_agency.stranger))


async def test_the_case_note_of_a_multi_agency_audit_is_kept_with_it_for_the_coordinator_and_the_auditor(multi_agency: MultiAgencyAudit) -> None:
    await multi_agency.followed_up()
    for person in (multi_agency.coordinator, multi_agency.auditor):
        got = await multi_agency.http.get(f"/v1/audits/{multi_agency.audit_id}/case-note", headers=person)
        assert got.status_code == 200, got.text
        note = got.json()
        assert (note["audit_id"], note["case_id"], note["case_ref"], note["author_id"]) == (multi_agency.audit_id, CASE, multi_agency.code, "P-X")
        assert note["analysis"] == "The risk of neglect is well understood and the plan is clear."
        assert "Health visitors refer to early help within 5 days." in note["recommended_actions"]
        assert note["grade"] == "inadequate_critical" and note["note_type"] == "Case Audit - Online Audit Programme"


async def test_nobody_else_reads_the_case_note_of_a_multi_agency_audit_or_its_case_id(multi_agency: MultiAgencyAudit) -> None:
    # However much of the audit they may read: QA staff, a copy's recipient and action owner, the
    # confirming officer, the lead QA auditor, a stranger.
    ma = multi_agency
    await ma.followed_up()
    for person in (ma.qa, ma.manager, ma.officer, ma.lead, ma.stranger):
        _not_found(await ma.http.get(f"/v1/audits/{ma.audit_id}/case-note", headers=person))
    assert (await ma.http.get(f"/v1/audits/{ma.audit_id}", headers=ma.manager)).json()["case_id"] is None
