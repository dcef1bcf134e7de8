"""A Kent-style online peer review through all three stages over the API, against real MongoDB
and RabbitMQ: each event published once, the PDFs produced and holding both parties' grades."""

from __future__ import annotations

import io

from audit.case_audit import events as ie
from audit.main import create_app
from pypdf import PdfReader

from devstack.testing import EventCapture, running_service

from .conftest import QA_OFFICER, clock, complete, grading, seed_directory

KENT = "kent-online-peer-review"


def _pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


async def test_a_kent_audit_through_audit_peer_review_and_moderation(service_env, capture: EventCapture) -> None:  # type: ignore[no-untyped-def]
    async with running_service(lambda: create_app(clock=clock())) as svc:
        await seed_directory(svc.db)
        http = svc.http
        qa = svc.as_person(QA_OFFICER[0], roles=QA_OFFICER[1])
        tm = svc.as_person("P-TM3", roles=["team_manager", "auditor"])
        pr = svc.as_person("P-PR", roles=["peer_reviewer"])

        # Allocation by a QA officer; the same Idempotency-Key again creates nothing new.
        body = {"tool_id": KENT, "case_id": "C-3001", "auditor_id": "P-TM3", "peer_reviewer_id": "P-PR", "month": "2026-10"}
        created = await http.post("/v1/audits", json=body, headers={**qa, "Idempotency-Key": "alloc-1"})
        assert created.status_code == 201, created.text
        audit = created.json()
        audit_id = audit["id"]
        again = await http.post("/v1/audits", json=body, headers={**qa, "Idempotency-Key": "alloc-1"})
        assert again.json()["id"] == audit_id and again.headers["Idempotent-Replayed"] == "true"
        assert created.headers["ETag"] == '"1"'
        assert audit["case_type"] == "CP" and audit["open_band"] == "over_3_months"
        form = audit["form"]
        assert [s["key"] for s in form["sections"]] == [
            "assessment", "voice_of_the_child", "planning", "child_protection", "review_and_progress", "multi_agency_working", "supervision_and_oversight",
        ]

        # Stage 1: a draft with gaps is saved, but not submitted; every gap is listed.
        draft = await http.put(f"/v1/audits/{audit_id}/stage1", json={"answers": {"plan_smart": {"value": "yes"}}}, headers={**tm, "If-Match": '"1"'})
        assert draft.status_code == 200, draft.text
        refused = await http.post(f"/v1/audits/{audit_id}/stage1/submit", headers={**tm, "If-Match": draft.headers["ETag"]})
        assert refused.status_code == 422
        assert refused.headers["content-type"].startswith("application/problem+json")
        fields = {e["field"] for e in refused.json()["errors"]}
        assert "answers.conference_timely" in fields and "section_grades.assessment" in fields and "oversight_comment" in fields
        assert "answers.plan_smart" not in fields
        saved = await http.put(f"/v1/audits/{audit_id}/stage1", json=complete(form), headers={**tm, "If-Match": draft.headers["ETag"]})
        submitted = await http.post(f"/v1/audits/{audit_id}/stage1/submit", headers={**tm, "If-Match": saved.headers["ETag"]})
        assert submitted.status_code == 200, submitted.text
        assert submitted.json()["status"] == "peer_review"

        # Stage 2: the peer reviewer sees stage 1, disagrees on one answer and one sub-section grade.
        seen = (await http.get(f"/v1/audits/{audit_id}", headers=pr)).json()
        assert seen["stage1"]["work"]["section_grades"]["assessment"] == "good"
        review = complete(form, peer=True)
        review["answers"]["chronology_current"] = {"value": "no"}
        review["section_grades"]["assessment"] = "requires_improvement"
        etag = seen["version"]
        saved = await http.put(f"/v1/audits/{audit_id}/peer-review", json=review, headers={**pr, "If-Match": f'"{etag}"'})
        refused = await http.post(f"/v1/audits/{audit_id}/peer-review/submit", headers={**pr, "If-Match": saved.headers["ETag"]})
        assert refused.status_code == 422
        assert [e["field"] for e in refused.json()["errors"]] == ["answers.chronology_current.comment"]
        review["answers"]["chronology_current"] = {"value": "no", "comment": "The chronology stops in March."}
        saved = await http.put(f"/v1/audits/{audit_id}/peer-review", json=review, headers={**pr, "If-Match": saved.headers["ETag"]})
        submitted = await http.post(f"/v1/audits/{audit_id}/peer-review/submit", headers={**pr, "If-Match": saved.headers["ETag"]})
        assert submitted.status_code == 200, submitted.text
        moderation = submitted.json()["moderation"]
        assert submitted.json()["status"] == "moderation"
        assert moderation["grades_differ"] and moderation["differing_sections"] == ["assessment"]

        # Stage 3: the auditor proposes a moderated grading and the peer reviewer accepts it.
        proposal = grading(form, "good", "good", assessment="requires_improvement")
        proposed = await http.post(f"/v1/audits/{audit_id}/moderation/proposals", json=proposal, headers={**tm, "If-Match": submitted.headers["ETag"]})
        assert proposed.status_code == 200, proposed.text
        own = await http.post(f"/v1/audits/{audit_id}/moderation/accept", headers={**tm, "If-Match": proposed.headers["ETag"]})
        assert own.status_code == 403
        accepted = await http.post(f"/v1/audits/{audit_id}/moderation/accept", headers={**pr, "If-Match": proposed.headers["ETag"]})
        assert accepted.status_code == 200, accepted.text
        done = accepted.json()
        assert done["status"] == "completed" and done["grade_of_record"] == "good"
        assert done["moderation"]["accepted_by"] == "P-PR" and done["moderation"]["proposals"][0]["by"] == "P-TM3"
        assert done["moderation"]["accepted_at"] is not None

        # Every event once, with its envelope.
        once = [
            ie.AUDIT_ALLOCATED, ie.AUDIT_SUBMITTED, ie.PEER_REVIEW_SUBMITTED, ie.MODERATION_REQUIRED, ie.MODERATION_PROPOSED,
            ie.MODERATION_AGREED, ie.AUDIT_COMPLETED, ie.CASE_NOTE_SUMMARY,
        ]
        for event_type in once:
            await capture.wait_for(event_type.type, 1)
        copies = await capture.wait_for(ie.COPY_ROUTED.type, 3)
        await capture.settle(1.0)
        for event_type in once:
            assert len(capture.of_type(event_type.type)) == 1, event_type.type
        assert len(capture.of_type(ie.COPY_ROUTED.type)) == 3
        assert capture.of_type(ie.MODERATION_ESCALATED.type) == []
        audit_events = [e for e in capture.events if e.type.startswith("audit.")]
        assert all(e.source == "/qa/audit" and e.subject == f"audit/{audit_id}" for e in audit_events)

        completed = capture.of_type(ie.AUDIT_COMPLETED.type)[0].data
        assert completed["grade"] == "good" and completed["moderated"] is True and completed["case_ref"] == "C-3001"
        required = capture.of_type(ie.MODERATION_REQUIRED.type)[0].data
        assert required["grades_differ"] and not required["supervision_inadequate"]
        note = capture.of_type(ie.CASE_NOTE_SUMMARY.type)[0].data
        assert note["case_id"] == "C-3001" and note["analysis"].startswith("The risk of neglect")
        assert note["moderated_on"] == "2026-10-01" and note["author_id"] == "P-TM3"

        # Copies: stage 1 to the auditor; then both parties; the accountable service manager and the
        # CP chairs' manager every time (a CP case graded good: no safeguarding QA service manager).
        by_stage = {c.data["stage"]: c.data for c in copies}
        assert set(by_stage) == {"audit", "peer_review", "moderated"}
        assert by_stage["audit"]["recipient_ids"] == ["P-TM3", "P-SM", "P-QASM"]
        assert by_stage["peer_review"]["recipient_ids"] == ["P-TM3", "P-PR", "P-SM", "P-QASM"]
        cp_manager = next(r for r in by_stage["audit"]["recipients"] if r["person_id"] == "P-QASM")
        assert cp_manager["reasons"] == ["cp_chairs_manager"]

        # The PDFs: produced, downloadable, and holding both parties' grades.
        listed = (await http.get(f"/v1/audits/{audit_id}/pdfs", headers=tm)).json()["items"]
        assert [p["stage"] for p in listed] == ["audit", "peer_review", "moderated"]
        texts: dict[str, str] = {}
        for item in listed:
            got = await http.get(item["href"], headers=tm)
            assert got.status_code == 200 and got.headers["content-type"] == "application/pdf"
            assert got.content.startswith(b"%PDF") and len(got.content) < 100_000
            texts[item["stage"]] = _pdf_text(got.content)
            routed = by_stage[item["stage"]]
            # The routed copy says where the stored file is (through the gateway), never carries it.
            assert item["pdf_id"] == routed["pdf_id"] and routed["document_path"] == "/api/v1/audit" + item["href"].removeprefix("/v1")
            assert not {"pdf_base64", "pdf_filename", "pdf_path"} & set(routed) and len(str(routed)) < 2_000
            assert got.headers["content-disposition"] == f'attachment; filename="audit-{audit_id}-{item["stage"]}.pdf"'
        assert "Auditor's grade: Good" in texts["audit"] and "Peer reviewer's grade" not in texts["audit"]
        for stage in ("peer_review", "moderated"):
            assert "Auditor's grade: Good" in texts[stage]
            assert "Peer reviewer's grade: Requires improvement" in texts[stage]
            assert "The chronology stops in March." in texts[stage]
        assert "Stage 3: moderation" in texts["moderated"] and "Grade of record: Good" in texts["moderated"]

        # The accountable service manager, having been sent copies, may now read the audit.
        as_manager = await http.get(f"/v1/audits/{audit_id}", headers=svc.as_person("P-SM", roles=["service_manager"]))
        assert as_manager.status_code == 200 and "copy_recipient" in as_manager.json()["your_parts"]

        # Every draft saved is kept.
        drafts = (await http.get(f"/v1/audits/{audit_id}/drafts", headers=qa)).json()["items"]
        assert [(d["stage"], d["number"]) for d in drafts] == [("audit", 1), ("audit", 2), ("peer_review", 1), ("peer_review", 2)]

