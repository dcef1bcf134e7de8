"""An exemplar's life through the API against real MongoDB and RabbitMQ: each action publishes its
event exactly once, with the envelope and data schema of the AsyncAPI document."""

from __future__ import annotations

from typing import Any

from shared.clock import FixedClock
from signoff import events
from signoff.main import create_app

from devstack import asyncapi
from devstack.testing import EventCapture, running_service
from services.signoff.tests.integration.harness import T0, act, complete_ia, create, if_match, load_directory, who

ASYNCAPI = asyncapi.document()


def check_envelope(envelope: Any, event_type: Any, exemplar_id: str) -> None:
    """The envelope and data as the AsyncAPI document describes the event's message."""
    key = event_type.routing_key
    schemas = ASYNCAPI["components"]["schemas"]
    fixed = schemas[ASYNCAPI["components"]["messages"][key]["payload"]["$ref"].rsplit("/", 1)[-1]]["properties"]
    assert envelope.type == fixed["type"]["const"] == key
    assert envelope.source == fixed["source"]["const"] == "/qa/signoff"
    assert envelope.dataschema == fixed["dataschema"]["const"]
    assert envelope.subject == f"exemplar/{exemplar_id}" and envelope.specversion == "1.0"
    schema = schemas[fixed["data"]["$ref"].rsplit("/", 1)[-1]]
    assert set(schema["required"]) <= set(envelope.data) <= set(schema["properties"])
    event_type.data_model.model_validate(envelope.data)
    assert "child_name" not in envelope.data


async def test_create_sign_counter_sign_lock_unlock_each_publish_once(service_env, capture: EventCapture) -> None:
    clock = FixedClock(T0)
    async with running_service(lambda: create_app(clock=clock)) as svc:
        await load_directory(svc)

        partial = {"date_commenced": "2026-03-02", "plan_review_date": "2026-04-01"}
        created = await create(svc, answers=partial)
        body = created.json()
        x_id = body["id"]
        assert created.headers["ETag"] == '"1"' and created.headers["Location"] == f"/v1/exemplars/{x_id}"
        assert (body["version"], body["status"], body["case_id"], body["team_id"]) == (1, "draft", "C-1001", "T-DA")
        assert [u["question_id"] for u in body["unanswered_mandatory"]] == ["child_seen", "analysis", "further_action"]
        [env] = await capture.wait_for(events.EXEMPLAR_CREATED.type)
        check_envelope(env, events.EXEMPLAR_CREATED, x_id)
        assert env.data == {
            "exemplar_id": x_id, "case_id": "C-1001", "team_id": "T-DA", "type_code": "INIASS", "version": 1,
            "created_by": "P-SW1", "created_at": "2026-03-02T10:00:00Z", "start_date": "2026-03-02",
        }

        # the Exemplar Assistant: signing is refused with every unanswered mandatory question
        refused = await act(svc, "P-SW1", created, "first-signature", expect=422)
        problem = refused.json()
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert [u["question_id"] for u in problem["unanswered"]] == ["child_seen", "analysis", "further_action"]
        assert "Has the Child / Young Person Been Seen?" in problem["detail"]

        clock.advance(hours=1)
        saved = await svc.http.patch(
            f"/v1/exemplars/{x_id}/answers", json={"answers": complete_ia()}, headers={**who(svc, "P-SW1"), **if_match(created)}
        )
        assert saved.status_code == 200, saved.text
        assert saved.headers["ETag"] == '"2"' and saved.json()["unanswered_mandatory"] == []

        clock.advance(hours=1)
        first = await act(svc, "P-SW1", saved, "first-signature")
        assert first.json()["current"]["first_signature"] == {"by": "P-SW1", "at": "2026-03-02T12:00:00Z"}
        system_message = first.json()["system_message"]
        assert system_message["to_person_id"] == "P-DS" and system_message["from_system"] is True
        assert system_message["action"] == "ready_for_counter_sign" and system_message["due_on"] == "2026-03-11"
        [env] = await capture.wait_for(events.EXEMPLAR_FIRST_SIGNED.type)
        check_envelope(env, events.EXEMPLAR_FIRST_SIGNED, x_id)
        assert (env.data["signed_by"], env.data["version"]) == ("P-SW1", 1)
        [msg] = await capture.wait_for(events.WORKFLOW_MESSAGE_SENT.type)
        check_envelope(msg, events.WORKFLOW_MESSAGE_SENT, x_id)
        assert (msg.data["to_person_id"], msg.data["assigned_by"], msg.data["from_system"]) == ("P-DS", "P-SW1", True)
        # the system's own message goes to the work tray only (notify's counter-sign task)
        assert msg.data["send_email"] is False and system_message["send_email"] is False

        clock.advance(days=1)
        countersigned = await act(svc, "P-DS", first, "counter-signature", {"comments": "Good", "supervision_notes": "Discussed"})
        cs = countersigned.json()
        assert cs["locked"] and cs["current"]["counter_signature"]["supervision_notes"] == "Discussed"
        [env] = await capture.wait_for(events.EXEMPLAR_COUNTER_SIGNED.type)
        check_envelope(env, events.EXEMPLAR_COUNTER_SIGNED, x_id)
        assert (env.data["counter_signed_by"], env.data["first_signed_by"], env.data["working_days_taken"], env.data["on_time"]) == (
            "P-DS", "P-SW1", 1, True,
        )
        assert "Good" not in str(env.data) and "Discussed" not in str(env.data)

        # locked: an edit is refused with 409 and says why
        locked = await svc.http.patch(
            f"/v1/exemplars/{x_id}/answers", json={"answers": {"analysis": "changed"}}, headers={**who(svc, "P-SW1"), **if_match(countersigned)}
        )
        assert locked.status_code == 409 and locked.json()["type"].endswith("/locked")
        assert "counter-signed by P-DS" in locked.json()["detail"] and "Unlock" in locked.json()["detail"]

        clock.advance(days=1)
        unlocked = await act(svc, "P-SW1", countersigned, "unlock", {"reason": "Outcome recorded wrongly"})
        un = unlocked.json()
        assert (un["version"], un["status"], un["locked"]) == (2, "draft", False)
        assert un["current"]["answers"] == cs["current"]["answers"] and un["current"]["origin"] == "unlocked"
        [env] = await capture.wait_for(events.EXEMPLAR_UNLOCKED.type)
        check_envelope(env, events.EXEMPLAR_UNLOCKED, x_id)
        assert (env.data["version"], env.data["new_version"], env.data["unlocked_by"]) == (1, 2, "P-SW1")
        assert "wrongly" not in str(env.data)

        edited = await svc.http.patch(
            f"/v1/exemplars/{x_id}/answers", json={"answers": {"analysis": "Corrected analysis"}}, headers={**who(svc, "P-SW1"), **if_match(unlocked)}
        )
        assert edited.status_code == 200
        v1 = (await svc.http.get(f"/v1/exemplars/{x_id}/versions/1", headers=who(svc, "P-DS"))).json()
        assert v1["answers"] == cs["current"]["answers"] and v1["locked"] and v1["unlock"]["reason"] == "Outcome recorded wrongly"
        assert v1["counter_signature"]["by"] == "P-DS"

        chronology = (await svc.http.get("/v1/cases/C-1001/chronology", headers=who(svc, "P-SW1"))).json()["items"]
        assert [(e["kind"], e["version"], e["by"], e["type_code"]) for e in chronology] == [
            ("created", 1, "P-SW1", "INIASS"), ("first_signed", 1, "P-SW1", "INIASS"), ("message_sent", 1, "P-SW1", "INIASS"),
            ("counter_signed", 1, "P-DS", "INIASS"), ("unlocked", 1, "P-SW1", "INIASS"), ("version_created", 2, "P-SW1", "INIASS"),
        ]

        await capture.flushed(svc.db)  # every event written has arrived
        # (How far the directory is applied is reported only for numbered directory changes: none here.)
        counts = {t.type: len(capture.of_type(t.type)) for t in events.EVENTS}
        assert counts == {
            "signoff.exemplar.cloned.v1": 0, "signoff.exemplar.counter-signed.v1": 1, "signoff.exemplar.created.v1": 1,
            "signoff.exemplar.first-signed.v1": 1, "signoff.exemplar.unlocked.v1": 1, "signoff.workflow-message.sent.v1": 1,
            "signoff.directory.applied.v1": 0, "signoff.index-child-case-note.added.v1": 0,
        }
