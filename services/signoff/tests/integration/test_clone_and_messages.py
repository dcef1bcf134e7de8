"""Cloning an index child's exemplar to siblings, and workflow messages for the work tray."""

from __future__ import annotations

from signoff import events, store
from signoff.main import create_app

from devstack.testing import EventCapture, running_service
from services.signoff.tests.integration.harness import act, create, load_directory, signed_off, who


async def test_cloning_to_siblings_marks_each_clone_and_publishes_one_event_each(service_env, capture: EventCapture) -> None:
    async with running_service(create_app) as svc:
        await load_directory(svc)
        index = (await signed_off(svc)).json()
        headers = {**who(svc, "P-SW1"), "Idempotency-Key": "clone-1"}
        resp = await svc.http.post(f"/v1/exemplars/{index['id']}/clones", json={"case_ids": ["C-1002", "C-1003"]}, headers=headers)
        assert resp.status_code == 201, resp.text
        clones = resp.json()["clones"]
        assert sorted(c["case_id"] for c in clones) == ["C-1002", "C-1003"]
        assert all(c["clone_of_exemplar_id"] == index["id"] and c["status"] == "draft" and c["version"] == 1 for c in clones)

        clone = (await svc.http.get(f"/v1/exemplars/{clones[0]['id']}", headers=who(svc, "P-DS"))).json()
        assert clone["clone_of"]["exemplar_id"] == index["id"] and clone["clone_of"]["version"] == 1
        assert clone["clone_of"]["comments"] == "Agreed" and clone["current"]["answers"] == index["current"]["answers"]

        published = await capture.wait_for(events.EXEMPLAR_CLONED.type, 2)
        assert sorted(e.data["case_id"] for e in published) == ["C-1002", "C-1003"]
        assert all(e.data["index_exemplar_id"] == index["id"] and e.data["index_version"] == 1 for e in published)
        assert all(e.source == "/qa/signoff" and e.subject == f"exemplar/{e.data['exemplar_id']}" for e in published)

        # the same request again (a retry) creates nothing more
        again = await svc.http.post(f"/v1/exemplars/{index['id']}/clones", json={"case_ids": ["C-1002", "C-1003"]}, headers=headers)
        assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
        assert sorted(c["id"] for c in again.json()["clones"]) == sorted(c["id"] for c in clones)
        # ...and cloning the same version to the same sibling again is a conflict
        dup = await svc.http.post(f"/v1/exemplars/{index['id']}/clones", json={"case_ids": ["C-1002"]}, headers=who(svc, "P-SW1"))
        assert dup.status_code == 409

        # a clone needs its own signatures; the system's message says it is a clone
        clone_resp = await svc.http.get(f"/v1/exemplars/{clones[0]['id']}", headers=who(svc, "P-SW1"))
        first = await act(svc, "P-SW1", clone_resp, "first-signature")
        assert "a clone of exemplar" in first.json()["system_message"]["subject"]
        assert first.json()["system_message"]["clone_of_exemplar_id"] == index["id"]
        await act(svc, "P-DS", first, "counter-signature")

        chronology = (await svc.http.get("/v1/cases/C-1001/chronology", headers=who(svc, "P-SW1"))).json()["items"]
        assert [e["kind"] for e in chronology].count("cloned_to_sibling") == 2
        sibling = (await svc.http.get("/v1/cases/C-1002/chronology", headers=who(svc, "P-SW1"))).json()["items"]
        assert sibling[0]["kind"] == "cloned" and index["id"] in sibling[0]["summary"]

        await capture.flushed(svc.db)  # every event written has arrived
        assert len(capture.of_type(events.EXEMPLAR_CLONED.type)) == 2
        assert len(capture.of_type(events.EXEMPLAR_CREATED.type)) == 1  # clones are announced as cloned, not created


async def test_cloning_to_a_case_that_is_not_a_sibling_or_unknown_changes_nothing(service_env, capture: EventCapture) -> None:
    async with running_service(create_app) as svc:
        await load_directory(svc)
        index = (await signed_off(svc)).json()
        for case_ids, status in ((["C-1002", "C-2001"], 422), (["C-404"], 422), (["C-1001"], 422)):
            resp = await svc.http.post(f"/v1/exemplars/{index['id']}/clones", json={"case_ids": case_ids}, headers=who(svc, "P-SW1"))
            assert resp.status_code == status, resp.text
        assert await svc.db[store.EXEMPLARS].count_documents({}) == 1
        await capture.flushed(svc.db)  # every event written has arrived
        assert not capture.of_type(events.EXEMPLAR_CLONED.type)


async def test_a_draft_is_not_cloned(service_env) -> None:
    async with running_service(create_app) as svc:
        await load_directory(svc)
        draft = (await create(svc)).json()
        resp = await svc.http.post(f"/v1/exemplars/{draft['id']}/clones", json={"case_ids": ["C-1002"]}, headers=who(svc, "P-SW1"))
        assert resp.status_code == 409 and "not counter-signed" in resp.json()["detail"]


async def test_a_workflow_message_from_a_person_is_published_once_for_the_work_tray(service_env, capture: EventCapture) -> None:
    async with running_service(create_app) as svc:
        await load_directory(svc)
        created = (await create(svc)).json()
        body = {"to_person_id": "P-SW1", "subject": "C-1001 initial assessment", "action": "changes_needed",
                "text": "Please add the school's view", "due_on": "2099-01-05"}
        headers = {**who(svc, "P-DS"), "Idempotency-Key": "msg-1"}
        sent = await svc.http.post(f"/v1/exemplars/{created['id']}/messages", json=body, headers=headers)
        assert sent.status_code == 201, sent.text
        message = sent.json()
        assert (message["assigned_by"], message["from_system"], message["action"]) == ("P-DS", False, "changes_needed")
        assert message["send_email"] is False  # not asked for: the work tray only
        again = await svc.http.post(f"/v1/exemplars/{created['id']}/messages", json=body, headers=headers)
        assert again.json()["id"] == message["id"] and again.headers["Idempotent-Replayed"] == "true"

        [event] = await capture.wait_for(events.WORKFLOW_MESSAGE_SENT.type)
        assert event.data == {
            "exemplar_id": created["id"], "case_id": "C-1001", "team_id": "T-DA", "type_code": "INIASS", "version": 1,
            "message_id": message["id"], "to_person_id": "P-SW1", "assigned_by": "P-DS", "from_system": False,
            "action": "changes_needed", "subject": "C-1001 initial assessment", "text": "Please add the school's view",
            "due_on": "2099-01-05", "sent_at": event.data["sent_at"], "clone_of_exemplar_id": None, "clone_of_version": None,
            "send_email": False,
        }
        listed = (await svc.http.get(f"/v1/exemplars/{created['id']}/messages", headers=who(svc, "P-SW1"))).json()
        assert [m["id"] for m in listed["items"]] == [message["id"]]
        # sending a message does not change the exemplar, so nobody's If-Match goes stale
        assert (await svc.http.get(f"/v1/exemplars/{created['id']}", headers=who(svc, "P-SW1"))).headers["ETag"] == '"1"'

        refused = await svc.http.post(
            f"/v1/exemplars/{created['id']}/messages", json={**body, "action": "other", "text": None}, headers=who(svc, "P-DS")
        )
        assert refused.status_code == 422
        unknown = await svc.http.post(f"/v1/exemplars/{created['id']}/messages", json={**body, "to_person_id": "P-X"}, headers=who(svc, "P-DS"))
        assert unknown.status_code == 422
        await capture.flushed(svc.db)  # every event written has arrived
        assert len(capture.of_type(events.WORKFLOW_MESSAGE_SENT.type)) == 1
        assert await svc.db[store.MESSAGES].count_documents({}) == 1


async def test_a_sender_who_asks_for_an_email_has_the_request_carried_to_notify(service_env, capture: EventCapture) -> None:
    async with running_service(create_app) as svc:
        await load_directory(svc)
        created = (await create(svc)).json()
        body = {"to_person_id": "P-SW1", "subject": "C-1001 initial assessment", "action": "ready_for_first_sign_off",
                "due_on": "2099-01-05", "send_email": True}
        sent = await svc.http.post(f"/v1/exemplars/{created['id']}/messages", json=body, headers=who(svc, "P-DS"))
        assert sent.status_code == 201, sent.text
        assert sent.json()["send_email"] is True

        [event] = await capture.wait_for(events.WORKFLOW_MESSAGE_SENT.type)
        assert event.data["message_id"] == sent.json()["id"] and event.data["send_email"] is True
        assert event.source == "/qa/signoff" and event.subject == f"exemplar/{created['id']}"
        listed = (await svc.http.get(f"/v1/exemplars/{created['id']}/messages", headers=who(svc, "P-SW1"))).json()
        assert [m["send_email"] for m in listed["items"]] == [True]

        not_a_flag = await svc.http.post(
            f"/v1/exemplars/{created['id']}/messages", json={**body, "send_email": "perhaps"}, headers=who(svc, "P-DS")
        )
        assert not_a_flag.status_code == 422
        await capture.flushed(svc.db)  # every event written has arrived
        assert len(capture.of_type(events.WORKFLOW_MESSAGE_SENT.type)) == 1
