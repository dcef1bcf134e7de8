"""Audit events (as notify reads them) become tasks and emails, exactly once, with the right recipients. A routed
copy, built with the audit service's own model, is a contract between the two services: tests/contract/test_audit_copies_meet_notify.py."""

from __future__ import annotations

from typing import Any

import notify.mappings.audit as a
from notify.mail.outbox import EMAILS
from notify.main import create_app
from notify.store import TASKS

from devstack.testing import ConsumerOutcomes, eventually, mail_outbox_drained, running_service

STAFF = [
    {"person_id": "TM-1", "name": "Tom Manager", "roles": ["team_manager", "auditor"]},
    {"person_id": "PR-1", "name": "Pat Reviewer", "roles": ["peer_reviewer"]},
    {"person_id": "SM-1", "name": "Sue Service", "roles": ["service_manager"]},
    {"person_id": "IRO-1", "name": "Ivy Iro", "roles": ["iro"]},
]


async def _tray(svc: Any, person_id: str, **params: str) -> list[dict[str, Any]]:
    response = await svc.http.get("/v1/tasks", params=params, headers=svc.as_person(person_id))
    assert response.status_code == 200, response.text
    return response.json()["items"]


async def _count(svc: Any, collection: str, query: dict[str, Any]) -> int:
    return await svc.db[collection].count_documents(query)


async def test_an_allocation_puts_one_task_in_the_auditors_tray_and_sends_one_email_even_when_delivered_twice(smtp, kit) -> None:
    async with running_service(create_app) as svc:
        await kit.add_people(svc, *STAFF)
        envelope = await kit.publish(svc, a.ALLOCATED, {"audit_id": "A-1", "auditor_id": "TM-1", "peer_reviewer_id": "PR-1",
                                                         "month": "2026-04"})
        # The auditor's email, and its copy to the peer reviewer (seed 004 4.1, without the link).
        [message] = [m for m in await smtp.catcher.wait_for(2) if m["To"] == "tm-1@council.example"]
        taken = ConsumerOutcomes("notify", "work-tray")
        await kit.republish(svc, envelope)
        await taken.wait_for("duplicate")  # the redelivery was taken, and known for what it is
        await mail_outbox_drained(svc)  # whatever it might have queued has gone

        [task] = await _tray(svc, "TM-1")
        assert (task["kind"], task["status"], task["origin"], task["assigned_by"], task["due_on"]) == ("audit", "open", "system", None, "2026-04-30")
        assert task["link"] == {"service": "audit", "path": "/audits/A-1", "url": "https://qa.council.example/audit/audits/A-1"}
        assert await _count(svc, TASKS, {}) == 2
        assert len(smtp.catcher.messages) == 2 and await _count(svc, EMAILS, {}) == 2
        assert message["To"] == "tm-1@council.example"
        assert message["From"] == "QA Platform <qa@council.example>"
        assert message["Subject"] == "Case allocated to you for audit: Audit A-1 for 2026-04"
        plain = message.get_body(("plain",)).get_content()
        html = message.get_body(("html",)).get_content()
        assert "Dear Tom Manager" in plain and "https://qa.council.example/audit/audits/A-1" in plain and "Due: 30/04/2026" in plain
        assert '<a href="https://qa.council.example/audit/audits/A-1">' in html
        record = await svc.db[EMAILS].find_one({"recipient_id": "TM-1"})
        assert (record["status"], record["recipient_id"], record["to"], record["attempts"]) == ("sent", "TM-1", "tm-1@council.example", 1)
        assert record["results"][0]["result"] == "sent" and record["sent_at"] is not None
        [copy] = await _tray(svc, "PR-1")
        assert copy["kind"] == "audit_copy" and copy["status"] == "open"
        [copied] = smtp.catcher.to("pr-1@council.example")
        assert "/audit/audits/A-1" not in copied.get_body(("plain",)).get_content() + copied.get_body(("html",)).get_content()


async def test_submission_closes_the_audit_task_and_puts_the_peer_review_in_the_reviewers_tray_with_an_email(smtp, kit) -> None:
    async with running_service(create_app) as svc:
        await kit.add_people(svc, *STAFF)
        await kit.publish(svc, a.ALLOCATED, {"audit_id": "A-1", "auditor_id": "TM-1", "peer_reviewer_id": "PR-1"})
        await smtp.catcher.wait_for(2)  # the auditor's, and the peer reviewer's copy (without the link)
        await kit.publish(svc, a.SUBMITTED, {"audit_id": "A-1", "auditor_id": "TM-1", "peer_reviewer_id": "PR-1"})
        await smtp.catcher.wait_for(3)
        [done] = await _tray(svc, "TM-1")
        assert done["status"] == "done" and done["status_changed_by"] == "TM-1"
        [review] = await _tray(svc, "PR-1", status="open")
        assert review["kind"] == "peer_review"
        assert sorted(m["To"] for m in smtp.catcher.messages[:2]) == ["pr-1@council.example", "tm-1@council.example"]
        assert smtp.catcher.messages[2]["To"] == "pr-1@council.example"
        detail = (await svc.http.get(f"/v1/tasks/{done['id']}", headers=svc.as_person("TM-1"))).json()
        assert [(h["status"], h["reason"]) for h in detail["history"]] == [("open", "created"), ("done", "audit submitted")]

        await kit.publish(svc, a.PEER_REVIEW_SUBMITTED, {"audit_id": "A-1", "peer_reviewer_id": "PR-1"})

        async def review_done() -> bool:
            return (await _tray(svc, "PR-1"))[0]["status"] == "done"

        await eventually(review_done, message="peer review task closed")


async def test_moderation_required_tasks_and_emails_both_parties_and_agreement_closes_both(smtp, kit) -> None:
    async with running_service(create_app) as svc:
        await kit.add_people(svc, *STAFF)
        await kit.publish(svc, a.MODERATION_REQUIRED, {"audit_id": "A-1", "auditor_id": "TM-1", "peer_reviewer_id": "PR-1"})
        messages = await smtp.catcher.wait_for(2)
        assert sorted(m["To"] for m in messages) == ["pr-1@council.example", "tm-1@council.example"]
        assert all(m["Subject"] == "Moderation of grading needed: Moderation of audit A-1" for m in messages)
        assert [t["kind"] for t in await _tray(svc, "TM-1")] == ["moderation"]
        await kit.publish(svc, a.MODERATION_AGREED, {"audit_id": "A-1", "accepted_by": "TM-1"})

        async def both_done() -> bool:
            return await _count(svc, TASKS, {"kind": "moderation", "status": "done"}) == 2

        await eventually(both_done, message="both moderation tasks closed")
