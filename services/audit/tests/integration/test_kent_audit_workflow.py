"""A Kent-style online peer review through all three stages over the API, against real MongoDB
and RabbitMQ: each event published once, the PDFs produced and holding both parties' grades.

Every test takes one audit of case C-3001 as far as it needs (``KentAudit``: allocation, stage 1
with a draft with gaps first, a peer review that differs on one answer and one grade, and a
moderated grading agreed) and checks one thing about it."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from audit.case_audit import events as ie
from pypdf import PdfReader

from devstack.testing import EventCapture, ServiceClient

from .conftest import QA_OFFICER, complete, grading
from .service import seeded_service

KENT = "kent-online-peer-review"
ALLOCATION = {"tool_id": KENT, "case_id": "C-3001", "auditor_id": "P-TM3", "peer_reviewer_id": "P-PR", "month": "2026-10"}
#: The events published once each in the audit's life.
ONCE = [
    ie.AUDIT_ALLOCATED, ie.AUDIT_SUBMITTED, ie.PEER_REVIEW_SUBMITTED, ie.MODERATION_REQUIRED, ie.MODERATION_PROPOSED,
    ie.MODERATION_AGREED, ie.AUDIT_COMPLETED, ie.CASE_NOTE_SUMMARY,
]


def _pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


@dataclass
class Allocation:
    created: httpx.Response
    again: httpx.Response


@dataclass
class Stage1:
    draft: httpx.Response
    refused: httpx.Response
    submitted: httpx.Response


@dataclass
class PeerReview:
    seen: dict[str, Any]
    refused: httpx.Response
    submitted: httpx.Response


@dataclass
class Moderation:
    proposed: httpx.Response
    own: httpx.Response
    accepted: httpx.Response


@dataclass
class KentAudit:
    """One audit of C-3001, taken through the stages by its QA officer, auditor and peer reviewer."""

    svc: ServiceClient
    capture: EventCapture
    audit_id: str = ""
    form: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.http = self.svc.http
        self.qa = self.svc.as_person(QA_OFFICER[0], roles=QA_OFFICER[1])
        self.tm = self.svc.as_person("P-TM3", roles=["team_manager", "auditor"])
        self.pr = self.svc.as_person("P-PR", roles=["peer_reviewer"])

    async def allocate(self) -> Allocation:
        """Allocation by a QA officer; then the same request with the same Idempotency-Key again."""
        created = await self.http.post("/v1/audits", json=ALLOCATION, headers={**self.qa, "Idempotency-Key": "alloc-1"})
        assert created.status_code == 201, created.text
        self.audit_id, self.form = created.json()["id"], created.json()["form"]
        again = await self.http.post("/v1/audits", json=ALLOCATION, headers={**self.qa, "Idempotency-Key": "alloc-1"})
        return Allocation(created, again)

    async def stage1(self) -> Stage1:
        """Allocated; a draft with gaps saved and refused for submission; then complete and submitted."""
        await self.allocate()
        url = f"/v1/audits/{self.audit_id}/stage1"
        draft = await self.http.put(url, json={"answers": {"plan_smart": {"value": "yes"}}}, headers={**self.tm, "If-Match": '"1"'})
        assert draft.status_code == 200, draft.text
        refused = await self.http.post(f"{url}/submit", headers={**self.tm, "If-Match": draft.headers["ETag"]})
        saved = await self.http.put(url, json=complete(self.form), headers={**self.tm, "If-Match": draft.headers["ETag"]})
        submitted = await self.http.post(f"{url}/submit", headers={**self.tm, "If-Match": saved.headers["ETag"]})
        assert submitted.status_code == 200, submitted.text
        return Stage1(draft, refused, submitted)

    async def peer_review(self) -> PeerReview:
        """Stage 1 submitted; the peer reviewer disagrees on one answer (first without the comment
        that needs, refused) and one sub-section grade, and submits."""
        await self.stage1()
        url = f"/v1/audits/{self.audit_id}/peer-review"
        seen = (await self.http.get(f"/v1/audits/{self.audit_id}", headers=self.pr)).json()
        review = complete(self.form, peer=True)
        review["answers"]["chronology_current"] = {"value": "no"}
        review["section_grades"]["assessment"] = "requires_improvement"
        saved = await self.http.put(url, json=review, headers={**self.pr, "If-Match": f'"{seen["version"]}"'})
        refused = await self.http.post(f"{url}/submit", headers={**self.pr, "If-Match": saved.headers["ETag"]})
        review["answers"]["chronology_current"] = {"value": "no", "comment": "The chronology stops in March."}
        saved = await self.http.put(url, json=review, headers={**self.pr, "If-Match": saved.headers["ETag"]})
        submitted = await self.http.post(f"{url}/submit", headers={**self.pr, "If-Match": saved.headers["ETag"]})
        assert submitted.status_code == 200, submitted.text
        return PeerReview(seen, refused, submitted)

    async def moderation(self) -> Moderation:
        """Peer review submitted; the auditor proposes a moderated grading, may not accept it
        themselves, and the peer reviewer accepts it."""
        submitted = (await self.peer_review()).submitted
        url = f"/v1/audits/{self.audit_id}/moderation"
        proposal = grading(self.form, "good", "good", assessment="requires_improvement")
        proposed = await self.http.post(f"{url}/proposals", json=proposal, headers={**self.tm, "If-Match": submitted.headers["ETag"]})
        assert proposed.status_code == 200, proposed.text
        own = await self.http.post(f"{url}/accept", headers={**self.tm, "If-Match": proposed.headers["ETag"]})
        accepted = await self.http.post(f"{url}/accept", headers={**self.pr, "If-Match": proposed.headers["ETag"]})
        assert accepted.status_code == 200, accepted.text
        return Moderation(proposed, own, accepted)

    async def completed_and_announced(self) -> list[Any]:
        """Through all three stages, and every event it published arrived; returns the routed copies."""
        await self.moderation()
        for event_type in ONCE:
            await self.capture.wait_for(event_type.type, 1)
        copies = await self.capture.wait_for(ie.COPY_ROUTED.type, 3)
        await self.capture.flushed(self.svc.db)  # every event written has arrived: a second one would be here
        return copies

    async def copies_by_stage(self) -> dict[str, dict[str, Any]]:
        return {c.data["stage"]: c.data for c in await self.completed_and_announced()}


@pytest.fixture
async def kent(service_env: dict[str, str], capture: EventCapture) -> AsyncIterator[KentAudit]:
    async with seeded_service() as svc:
        yield KentAudit(svc, capture)


# --- Allocation -------------------------------------------------------------------------------------


async def test_an_allocation_by_a_qa_officer_is_made_once_for_one_idempotency_key(kent: KentAudit) -> None:
    allocation = await kent.allocate()
    assert allocation.again.json()["id"] == kent.audit_id and allocation.again.headers["Idempotent-Replayed"] == "true"
    assert allocation.created.headers["ETag"] == '"1"'


async def test_an_allocated_child_protection_case_open_over_3_months_gets_the_cp_sections(kent: KentAudit) -> None:
    audit = (await kent.allocate()).created.json()
    assert audit["case_type"] == "CP" and audit["open_band"] == "over_3_months"
    assert [s["key"] for s in audit["form"]["sections"]] == [
        "assessment", "voice_of_the_child", "planning", "child_protection", "review_and_progress", "multi_agency_working", "supervision_and_oversight",
    ]


# --- Stage 1 ----------------------------------------------------------------------------------------


async def test_a_stage_1_draft_with_gaps_is_saved_but_not_submitted_and_every_gap_is_listed(kent: KentAudit) -> None:
    refused = (await kent.stage1()).refused
    assert refused.status_code == 422
    assert refused.headers["content-type"].startswith("application/problem+json")
    fields = {e["field"] for e in refused.json()["errors"]}
    assert "answers.conference_timely" in fields and "section_grades.assessment" in fields and "oversight_comment" in fields
    assert "answers.plan_smart" not in fields


async def test_a_complete_stage_1_submitted_goes_to_peer_review(kent: KentAudit) -> None:
    assert (await kent.stage1()).submitted.json()["status"] == "peer_review"


# --- Stage 2 ----------------------------------------------------------------------------------------


async def test_the_peer_reviewer_sees_stage_1(kent: KentAudit) -> None:
    seen = (await kent.peer_review()).seen
    assert seen["stage1"]["work"]["section_grades"]["assessment"] == "good"


async def test_a_peer_reviewers_answer_differing_from_the_auditors_needs_a_comment(kent: KentAudit) -> None:
    refused = (await kent.peer_review()).refused
    assert refused.status_code == 422
    assert [e["field"] for e in refused.json()["errors"]] == ["answers.chronology_current.comment"]


async def test_a_peer_review_grading_a_section_otherwise_goes_to_moderation_of_that_section(kent: KentAudit) -> None:
    submitted = (await kent.peer_review()).submitted.json()
    assert submitted["status"] == "moderation"
    assert submitted["moderation"]["grades_differ"] and submitted["moderation"]["differing_sections"] == ["assessment"]


# --- Stage 3 ----------------------------------------------------------------------------------------


async def test_the_auditor_may_not_accept_their_own_moderation_proposal(kent: KentAudit) -> None:
    assert (await kent.moderation()).own.status_code == 403


async def test_the_moderated_grading_the_peer_reviewer_accepts_completes_the_audit(kent: KentAudit) -> None:
    done = (await kent.moderation()).accepted.json()
    assert done["status"] == "completed" and done["grade_of_record"] == "good"
    assert done["moderation"]["accepted_by"] == "P-PR" and done["moderation"]["proposals"][0]["by"] == "P-TM3"
    assert done["moderation"]["accepted_at"] is not None


# --- Events -----------------------------------------------------------------------------------------


async def test_every_event_is_published_once_from_the_audit_service_about_the_audit(kent: KentAudit) -> None:
    await kent.completed_and_announced()
    capture = kent.capture
    for event_type in ONCE:
        assert len(capture.of_type(event_type.type)) == 1, event_type.type
    assert len(capture.of_type(ie.COPY_ROUTED.type)) == 3
    assert capture.of_type(ie.MODERATION_ESCALATED.type) == []
    audit_events = [e for e in capture.events if e.type.startswith("audit.")]
    assert all(e.source == "/qa/audit" and e.subject == f"audit/{kent.audit_id}" for e in audit_events)


async def test_the_completion_moderation_and_case_note_events_say_what_happened(kent: KentAudit) -> None:
    await kent.completed_and_announced()
    capture = kent.capture
    completed = capture.of_type(ie.AUDIT_COMPLETED.type)[0].data
    assert completed["grade"] == "good" and completed["moderated"] is True and completed["case_ref"] == "C-3001"
    required = capture.of_type(ie.MODERATION_REQUIRED.type)[0].data
    assert required["grades_differ"] and not required["supervision_inadequate"]
    note = capture.of_type(ie.CASE_NOTE_SUMMARY.type)[0].data
    assert note["case_id"] == "C-3001" and note["analysis"].startswith("The risk of neglect")
    assert note["moderated_on"] == "2026-10-01" and note["author_id"] == "P-TM3"


async def test_copies_go_to_the_parties_so_far_and_the_accountable_service_manager_and_cp_chairs_manager_each_stage(kent: KentAudit) -> None:
    # Stage 1 to the auditor; then both parties; the accountable service manager and the CP chairs'
    # manager every time (a CP case graded good: no safeguarding QA service manager).
    by_stage = await kent.copies_by_stage()
    assert set(by_stage) == {"audit", "peer_review", "moderated"}
    assert by_stage["audit"]["recipient_ids"] == ["P-TM3", "P-SM", "P-QASM"]
    assert by_stage["peer_review"]["recipient_ids"] == ["P-TM3", "P-PR", "P-SM", "P-QASM"]
    cp_manager = next(r for r in by_stage["audit"]["recipients"] if r["person_id"] == "P-QASM")
    assert cp_manager["reasons"] == ["cp_chairs_manager"]


# --- PDFs, and who may read the audit -----------------------------------------------------------------


async def _pdfs(kent: KentAudit) -> tuple[list[dict[str, Any]], dict[str, httpx.Response]]:
    listed: list[dict[str, Any]] = (await kent.http.get(f"/v1/audits/{kent.audit_id}/pdfs", headers=kent.tm)).json()["items"]
    return listed, {item["stage"]: await kent.http.get(item["href"], headers=kent.tm) for item in listed}


async def test_a_pdf_of_each_stage_is_produced_and_downloadable(kent: KentAudit) -> None:
    await kent.completed_and_announced()
    listed, got = await _pdfs(kent)
    assert [p["stage"] for p in listed] == ["audit", "peer_review", "moderated"]
    for stage, pdf in got.items():
        assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
        assert pdf.content.startswith(b"%PDF") and len(pdf.content) < 100_000
        assert pdf.headers["content-disposition"] == f'attachment; filename="audit-{kent.audit_id}-{stage}.pdf"'


async def test_a_routed_copy_says_where_its_stored_pdf_is_through_the_gateway_and_never_carries_it(kent: KentAudit) -> None:
    by_stage = await kent.copies_by_stage()
    listed, _ = await _pdfs(kent)
    for item in listed:
        routed = by_stage[item["stage"]]
        assert item["pdf_id"] == routed["pdf_id"] and routed["document_path"] == "/api/v1/audit" + item["href"].removeprefix("/v1")
        assert not {"pdf_base64", "pdf_filename", "pdf_path"} & set(routed) and len(str(routed)) < 2_000


async def test_the_pdfs_hold_both_parties_grades_from_the_stage_that_gave_them(kent: KentAudit) -> None:
    await kent.completed_and_announced()
    _, got = await _pdfs(kent)
    texts = {stage: _pdf_text(pdf.content) for stage, pdf in got.items()}
    assert "Auditor's grade: Good" in texts["audit"] and "Peer reviewer's grade" not in texts["audit"]
    for stage in ("peer_review", "moderated"):
        assert "Auditor's grade: Good" in texts[stage]
        assert "Peer reviewer's grade: Requires improvement" in texts[stage]
        assert "The chronology stops in March." in texts[stage]
    assert "Stage 3: moderation" in texts["moderated"] and "Grade of record: Good" in texts["moderated"]


async def test_the_accountable_service_manager_having_been_sent_copies_may_read_the_audit(kent: KentAudit) -> None:
    await kent.completed_and_announced()
    as_manager = await kent.http.get(f"/v1/audits/{kent.audit_id}", headers=kent.svc.as_person("P-SM", roles=["service_manager"]))
    assert as_manager.status_code == 200 and "copy_recipient" in as_manager.json()["your_parts"]


async def test_every_draft_saved_is_kept(kent: KentAudit) -> None:
    await kent.completed_and_announced()
    drafts = (await kent.http.get(f"/v1/audits/{kent.audit_id}/drafts", headers=kent.qa)).json()["items"]
    assert [(d["stage"], d["number"]) for d in drafts] == [("audit", 1), ("audit", 2), ("peer_review", 1), ("peer_review", 2)]
