"""The mail relay against a real SMTP server that fails: retried with back-off, sent exactly once
when the server recovers, every attempt recorded."""

from __future__ import annotations

import asyncio

import notify.mappings.audit as a
from notify.mail.outbox import EMAILS
from notify.main import create_app

from devstack.testing import eventually, mail_outbox_drained, running_service

AUDITOR = {"person_id": "TM-1", "name": "Tom Manager", "roles": ["team_manager"]}


async def test_a_server_refusing_with_451_gets_retries_and_exactly_one_email_once_it_recovers(smtp, kit) -> None:
    smtp.catcher.refuse_next = 2
    async with running_service(create_app) as svc:
        await kit.add_people(svc, AUDITOR)
        await kit.publish(svc, a.ALLOCATED, {"audit_id": "A-1", "auditor_id": "TM-1"})
        [message] = await smtp.catcher.wait_for(1, timeout=15)
        await mail_outbox_drained(svc)  # nothing left to send: a second copy would have gone by now
        assert len(smtp.catcher.messages) == 1 and smtp.catcher.refused == 2
        assert message["To"] == "tm-1@council.example"
        record = await svc.db[EMAILS].find_one({})
        assert (record["status"], record["attempts"]) == ("sent", 3)
        assert [r["result"] for r in record["results"]] == ["failed", "failed", "sent"]
        assert "451" in record["results"][0]["detail"]


async def test_a_server_that_is_down_then_back_gets_exactly_one_email(smtp, kit) -> None:
    smtp.stop()
    async with running_service(create_app) as svc:
        await kit.add_people(svc, AUDITOR)
        await kit.publish(svc, a.ALLOCATED, {"audit_id": "A-1", "auditor_id": "TM-1"})

        async def tried_and_failed() -> bool:
            record = await svc.db[EMAILS].find_one({})
            return record is not None and record["attempts"] >= 2 and record["status"] == "pending"

        await eventually(tried_and_failed, message="failed attempts while the server is down")
        smtp.start()
        await smtp.catcher.wait_for(1, timeout=15)
        await mail_outbox_drained(svc)
        assert len(smtp.catcher.messages) == 1
        record = await svc.db[EMAILS].find_one({})
        assert record["status"] == "sent" and record["results"][-1]["result"] == "sent"
        assert all(r["result"] == "failed" for r in record["results"][:-1])


async def test_a_mail_that_keeps_failing_is_given_up_after_the_last_attempt_and_kept(smtp, kit, monkeypatch) -> None:
    monkeypatch.setenv("MAIL_MAX_ATTEMPTS", "2")
    smtp.catcher.refuse_next = 100
    async with running_service(create_app) as svc:
        await kit.add_people(svc, AUDITOR)
        await kit.publish(svc, a.ALLOCATED, {"audit_id": "A-1", "auditor_id": "TM-1"})

        async def failed() -> bool:
            record = await svc.db[EMAILS].find_one({})
            return record is not None and record["status"] == "failed"

        await eventually(failed, timeout=15, message="mail given up")
        assert await svc.runtime.extra["mail_relay"].send_pending() == 0  # a pass after giving up tries nothing more
        record = await svc.db[EMAILS].find_one({})
        assert record["attempts"] == 2 and smtp.catcher.refused == 2 and smtp.catcher.messages == []


async def test_two_replicas_relaying_the_same_outbox_send_each_email_once(smtp, kit) -> None:
    async with running_service(create_app) as one, running_service(create_app) as two:
        people = [{"person_id": f"SM-{i}", "name": f"Manager {i}", "roles": ["service_manager"]} for i in range(12)]
        await kit.add_people(one, *people)
        await kit.publish(one, a.COPY_ROUTED, {"audit_id": "A-1", "pdf_id": "p", "document_path": "/api/v1/audit/audits/A-1/pdfs/p",
                                                "recipient_ids": [p["person_id"] for p in people]})
        await smtp.catcher.wait_for(12, timeout=15)
        await asyncio.gather(one.runtime.extra["mail_relay"].send_pending(), two.runtime.extra["mail_relay"].send_pending())
        await mail_outbox_drained(one)  # both replicas' outbox: whatever either was going to send has gone
        assert sorted(m["To"] for m in smtp.catcher.messages) == sorted(f"sm-{i}@council.example" for i in range(12))
