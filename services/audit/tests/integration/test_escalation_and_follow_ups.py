"""Moderation escalated to a practice development officer, whose grading is final; an inadequate
(critical) grade confirmed by an officer; the action for the operational service manager that
escalates to the assistant director when still open a month later."""

from __future__ import annotations

import asyncio
from typing import Any

from audit.case_audit import events as ie
from audit.main import create_app

from devstack.testing import EventCapture, running_service

from .conftest import QA_OFFICER, clock, complete, grading, seed_directory

KENT = "kent-online-peer-review"


async def _to_moderation(svc: Any, *, supervision: str = "good") -> tuple[str, dict[str, Any], str]:
    """Allocate and take a CIC audit through stages 1 and 2 to moderation; returns id, form, ETag."""
    http = svc.http
    qa = svc.as_person(*QA_OFFICER[:1], roles=QA_OFFICER[1])
    tm = svc.as_person("P-TM4")
    pr = svc.as_person("P-PR")
    created = await http.post("/v1/audits", json={"tool_id": KENT, "case_id": "C-4001", "auditor_id": "P-TM4", "peer_reviewer_id": "P-PR"}, headers=qa)
    audit = created.json()
    audit_id, form = audit["id"], audit["form"]
    assert audit["open_band"] == "under_3_months" and "child_in_care" in [s["key"] for s in form["sections"]]
    saved = await http.put(f"/v1/audits/{audit_id}/stage1", json=complete(form, grade="inadequate"), headers={**tm, "If-Match": created.headers["ETag"]})
    submitted = await http.post(f"/v1/audits/{audit_id}/stage1/submit", headers={**tm, "If-Match": saved.headers["ETag"]})
    review = complete(form, grade="inadequate", peer=True)
    review["section_grades"]["supervision_and_oversight"] = supervision
    review["section_grades"]["planning"] = "inadequate_critical"
    saved = await http.put(f"/v1/audits/{audit_id}/peer-review", json=review, headers={**pr, "If-Match": submitted.headers["ETag"]})
    submitted = await http.post(f"/v1/audits/{audit_id}/peer-review/submit", headers={**pr, "If-Match": saved.headers["ETag"]})
    assert submitted.json()["status"] == "moderation", submitted.text
    return audit_id, form, submitted.headers["ETag"]


async def test_an_escalated_moderation_is_graded_finally_by_a_practice_development_officer_and_followed_up(service_env, capture: EventCapture) -> None:  # type: ignore[no-untyped-def]
    async with running_service(lambda: create_app(clock=clock())) as svc:
        await seed_directory(svc.db)
        http = svc.http
        tm, pr, pdo = svc.as_person("P-TM4"), svc.as_person("P-PR"), svc.as_person("P-PDO", roles=["practice_development_officer"])
        audit_id, form, etag = await _to_moderation(svc)

        # The auditor may not escalate; the peer reviewer does, and an officer is chosen from the directory.
        refused = await http.post(f"/v1/audits/{audit_id}/moderation/escalate", json={"reason": "No agreement"}, headers={**tm, "If-Match": etag})
        assert refused.status_code == 403
        _ = await http.get(f"/v1/audits/{audit_id}", headers=pdo)
        assert _.status_code == 404  # not yet party to it
        escalated = await http.post(f"/v1/audits/{audit_id}/moderation/escalate", json={"reason": "We cannot agree on planning."}, headers={**pr, "If-Match": etag})
        assert escalated.status_code == 200, escalated.text
        assert escalated.json()["moderation"]["officer_id"] == "P-PDO"
        late = await http.post(f"/v1/audits/{audit_id}/moderation/proposals", json=grading(form, "inadequate", "inadequate"), headers={**tm, "If-Match": escalated.headers["ETag"]})
        assert late.status_code == 409

        # A QA officer may re-appoint; a team manager may not.
        not_qa = await http.put(f"/v1/audits/{audit_id}/officers/moderation", json={"person_id": "P-PDO"}, headers={**tm, "If-Match": escalated.headers["ETag"]})
        assert not_qa.status_code == 403
        appointed = await http.put(
            f"/v1/audits/{audit_id}/officers/moderation", json={"person_id": "P-PDO"},
            headers={**svc.as_person("P-QA", roles=["qa_officer"]), "If-Match": escalated.headers["ETag"]},
        )
        assert appointed.status_code == 200, appointed.text

        final = await http.post(
            f"/v1/audits/{audit_id}/moderation/final-grading", json=grading(form, "inadequate", "inadequate_critical"),
            headers={**pdo, "If-Match": appointed.headers["ETag"]},
        )
        assert final.status_code == 200, final.text
        done = final.json()
        assert done["status"] == "completed" and done["grade_of_record"] == "inadequate_critical"
        assert done["moderation"]["final_by"] == "P-PDO"
        # Inadequate (critical): an officer to confirm it, and an action for the operational service manager.
        assert done["critical_confirmation"]["officer_id"] == "P-PDO"
        action = done["inadequate_action"]
        assert action["owner_id"] == "P-SM" and action["escalate_on"] == "2026-11-01" and action["status"] == "open"

        confirmed = await http.post(
            f"/v1/audits/{audit_id}/critical-confirmation", json={"confirmed": True, "comment": "Confirmed; strategy meeting held."},
            headers={**pdo, "If-Match": final.headers["ETag"]},
        )
        assert confirmed.status_code == 200, confirmed.text

        # The scheduler's escalation: nothing the day before, the action on the day, once.
        admin = svc.as_person("P-ADMIN", roles=["administrator"])
        assert (await http.post("/v1/inadequate-actions/escalations", json={"today": "2026-10-31"}, headers=tm)).status_code == 403
        assert (await http.post("/v1/inadequate-actions/escalations", json={"today": "2026-10-31"}, headers=admin)).json() == {"escalated": []}
        assert (await http.post("/v1/inadequate-actions/escalations", json={"today": "2026-11-01"}, headers=admin)).json() == {"escalated": [audit_id]}
        assert (await http.post("/v1/inadequate-actions/escalations", json={"today": "2026-11-02"}, headers=admin)).json() == {"escalated": []}
        as_director = await http.get(f"/v1/audits/{audit_id}", headers=svc.as_person("P-AD", roles=["assistant_director"]))
        assert as_director.status_code == 200 and as_director.json()["inadequate_action"]["escalated_to"] == "P-AD"

        for event_type in (ie.MODERATION_ESCALATED, ie.MODERATION_FINALISED, ie.AUDIT_COMPLETED, ie.CRITICAL_GRADE_CONFIRMED, ie.INADEQUATE_ACTION_OPENED, ie.INADEQUATE_ACTION_ESCALATED):
            await capture.wait_for(event_type.type, 1)
        await capture.wait_for(ie.OFFICER_APPOINTED.type, 3)
        await capture.settle(1.0)
        appointed_events = [e.data for e in capture.of_type(ie.OFFICER_APPOINTED.type)]
        assert [(e["purpose"], e["appointed_by"]) for e in appointed_events] == [
            ("moderation", "audit-service"), ("moderation", "P-QA"), ("critical_confirmation", "audit-service"),
        ]
        for event_type in (ie.MODERATION_ESCALATED, ie.MODERATION_FINALISED, ie.INADEQUATE_ACTION_ESCALATED, ie.INADEQUATE_ACTION_OPENED):
            assert len(capture.of_type(event_type.type)) == 1
        assert capture.of_type(ie.MODERATION_AGREED.type) == []
        escalation = capture.of_type(ie.INADEQUATE_ACTION_ESCALATED.type)[0].data
        assert escalation == {**escalation, "owner_id": "P-SM", "assistant_director_id": "P-AD"}
        moderated_copy = next(c.data for c in capture.of_type(ie.COPY_ROUTED.type) if c.data["stage"] == "moderated")
        # A child in care graded inadequate (critical): IRO team manager and safeguarding QA service manager copied.
        assert moderated_copy["recipient_ids"] == ["P-TM4", "P-PR", "P-PDO", "P-SM", "P-IROM", "P-QASM"]


async def test_supervision_graded_inadequate_starts_moderation_and_both_are_told(service_env, capture: EventCapture) -> None:  # type: ignore[no-untyped-def]
    async with running_service(lambda: create_app(clock=clock())) as svc:
        await seed_directory(svc.db)
        audit_id, _, _ = await _to_moderation(svc, supervision="inadequate")
        [required] = await capture.wait_for(ie.MODERATION_REQUIRED.type, 1)
        assert required.data["supervision_inadequate"] and required.data["grades_differ"]
        assert (required.data["auditor_id"], required.data["peer_reviewer_id"]) == ("P-TM4", "P-PR")


async def test_the_scheduler_pass_escalates_what_falls_due_on_its_day_once_however_often_it_runs(service_env, capture: EventCapture) -> None:  # type: ignore[no-untyped-def]
    from datetime import UTC, datetime

    from audit.scheduler import CycleScheduler
    from shared.clock import FixedClock

    async with running_service(lambda: create_app(clock=clock())) as svc:
        await seed_directory(svc.db)
        pr, pdo = svc.as_person("P-PR"), svc.as_person("P-PDO", roles=["practice_development_officer"])
        audit_id, form, etag = await _to_moderation(svc)
        escalated = await svc.http.post(f"/v1/audits/{audit_id}/moderation/escalate", json={"reason": "No agreement"}, headers={**pr, "If-Match": etag})
        final = await svc.http.post(
            f"/v1/audits/{audit_id}/moderation/final-grading", json=grading(form, "inadequate", "inadequate"),
            headers={**pdo, "If-Match": escalated.headers["ETag"]},
        )
        assert final.json()["inadequate_action"]["escalate_on"] == "2026-11-01", final.text

        runtime = svc.runtime
        for day, expected in ((datetime(2026, 10, 30, 9, tzinfo=UTC), 0), (datetime(2026, 11, 1, 9, tzinfo=UTC), 1)):
            scheduler = CycleScheduler(runtime.extra["audit"], runtime.extra["cycle_settings"], FixedClock(day), interval_s=0.05)
            scheduler.start()
            await asyncio.sleep(0.6)  # several passes
            await scheduler.stop()
            as_director = await svc.http.get(f"/v1/audits/{audit_id}", headers=svc.as_person("P-AD", roles=["assistant_director"]))
            assert (as_director.status_code == 200 and as_director.json()["inadequate_action"]["escalated_to"] == "P-AD") == bool(expected), day
        await capture.wait_for(ie.INADEQUATE_ACTION_ESCALATED.type, 1)
        await capture.settle(1.0)
        assert len(capture.of_type(ie.INADEQUATE_ACTION_ESCALATED.type)) == 1
