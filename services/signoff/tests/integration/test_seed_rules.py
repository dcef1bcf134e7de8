"""Seed 000's rules through sign-off's API, against real MongoDB and RabbitMQ: the duty admin officer
completes, clones, work-flows and opens exemplars but never signs; each clone adds the index child's
case note (published by id only); the Outcome of s47 Enquiries waits for a counter-signed Strategy
Discussion."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from signoff import events, store
from signoff.domain.catalogue import OUTCOME_S47, STRATEGY_DISCUSSION
from signoff.main import create_app

from devstack.testing import EventCapture, ServiceClient, running_service
from services.signoff.tests.integration.harness import act, create, if_match, load_directory, who
from services.signoff.tests.unit.builders import complete_answers

DUE = (date.today() + timedelta(days=7)).isoformat()


async def _message(svc: ServiceClient, sender: str, exemplar_id: str, to: str, action: str = "ready_for_first_sign_off") -> Any:
    return await svc.http.post(
        f"/v1/exemplars/{exemplar_id}/messages",
        json={
            "to_person_id": to,
            "subject": "Initial Assessment ready for first and second sign-off",
            "action": action,
            "due_on": DUE,
        },
        headers=who(svc, sender),
    )


async def _read(svc: ServiceClient, person: str, exemplar_id: str) -> Any:
    resp = await svc.http.get(f"/v1/exemplars/{exemplar_id}", headers=who(svc, person))
    assert resp.status_code == 200, resp.text
    return resp


async def test_the_admin_officer_completes_work_flows_clones_and_opens_but_the_duty_senior_signs(
    service_env, capture: EventCapture
) -> None:
    async with running_service(create_app) as svc:
        await load_directory(svc)
        # completed by the admin officer (a partial start, then the rest of the answers)
        started = await create(svc, "P-AO", answers={"date_commenced": "2026-03-02"})
        x_id = started.json()["id"]
        saved = await svc.http.patch(
            f"/v1/exemplars/{x_id}/answers",
            json={
                "answers": {
                    "child_seen": True,
                    "analysis": "As advised by the duty senior.",
                    "further_action": "Strategy discussion",
                }
            },
            headers={**who(svc, "P-AO"), **if_match(started)},
        )
        assert saved.status_code == 200 and saved.json()["unanswered_mandatory"] == [], saved.text

        # work-flowed to the duty senior; not to a social worker, who cannot give both signatures
        refused = await _message(svc, "P-AO", x_id, "P-SW1")
        assert refused.status_code == 422 and refused.headers["content-type"].startswith("application/problem+json")
        assert refused.json()["errors"][0]["field"] == "to_person_id" and "first and second signature" in refused.json()["detail"]
        assert await svc.db[store.MESSAGES].count_documents({}) == 0
        sent = await _message(svc, "P-AO", x_id, "P-DS")
        assert sent.status_code == 201 and sent.json()["to_person_id"] == "P-DS" and not sent.json()["from_system"], sent.text

        # the admin officer does not sign; the duty senior applies the first and second signature
        forbidden = await act(svc, "P-AO", saved, "first-signature", expect=403)
        assert "an admin officer does not sign" in forbidden.json()["detail"]
        assert (await _read(svc, "P-AO", x_id)).headers["ETag"] == saved.headers["ETag"]
        first = await act(svc, "P-DS", saved, "first-signature")
        await act(svc, "P-AO", first, "counter-signature", expect=403)
        signed = await act(svc, "P-DS", first, "counter-signature", {"comments": "Agreed"})
        version = signed.json()["current"]
        assert version["first_signature"]["by"] == version["counter_signature"]["by"] == "P-DS"

        # cloned to the siblings by the admin officer: a case note on each, by id only
        cloned = await svc.http.post(
            f"/v1/exemplars/{x_id}/clones", json={"case_ids": ["C-1002", "C-1003"]}, headers=who(svc, "P-AO")
        )
        assert cloned.status_code == 201, cloned.text
        clones = {c["case_id"]: c["id"] for c in cloned.json()["clones"]}
        notes = await capture.wait_for(events.INDEX_CHILD_CASE_NOTE_ADDED.type, 2)
        assert sorted((n.data["case_id"], n.data["exemplar_id"]) for n in notes) == sorted(clones.items())
        for note in notes:
            assert note.source == "/qa/signoff" and note.subject == f"exemplar/{note.data['exemplar_id']}"
            assert set(note.data) == {
                "exemplar_id",
                "case_id",
                "team_id",
                "type_code",
                "version",
                "index_case_id",
                "index_exemplar_id",
                "index_version",
                "added_by",
                "added_at",
            }
            assert (note.data["index_case_id"], note.data["index_exemplar_id"], note.data["index_version"]) == ("C-1001", x_id, 1)
            assert note.data["added_by"] == "P-AO"
            events.INDEX_CHILD_CASE_NOTE_ADDED.data_model.model_validate(note.data)
        sibling = (await svc.http.get("/v1/cases/C-1002/chronology", headers=who(svc, "P-AO"))).json()["items"]
        [entry] = [e for e in sibling if e["kind"] == "index_child_case_note"]
        assert "case C-1001 is the index child" in entry["summary"] and entry["exemplar_id"] == clones["C-1002"]

        # each clone work-flowed to the duty senior and signed by them
        clone = await _read(svc, "P-AO", clones["C-1002"])
        assert (await _message(svc, "P-AO", clones["C-1002"], "P-DS")).status_code == 201
        await act(svc, "P-AO", clone, "first-signature", expect=403)
        clone_first = await act(svc, "P-DS", clone, "first-signature")
        await act(svc, "P-DS", clone_first, "counter-signature")

        # a mistake found after sign-off: the admin officer opens it (Version 2); one of another team cannot
        locked = await _read(svc, "P-AO", x_id)
        elsewhere = await svc.http.post(
            f"/v1/exemplars/{x_id}/unlock", json={"reason": "Wrong date"}, headers={**who(svc, "P-AO2"), **if_match(locked)}
        )
        assert elsewhere.status_code == 404, elsewhere.text  # not theirs even to read
        opened = await act(svc, "P-AO", locked, "unlock", {"reason": "Date commenced was entered wrongly"})
        assert opened.json()["version"] == 2 and opened.json()["status"] == "draft"
        assert opened.json()["versions"][0]["unlock"]["by"] == "P-AO" and opened.json()["versions"][0]["locked"]


async def test_cloning_by_a_social_worker_adds_the_case_note_too_and_a_refused_clone_adds_none(
    service_env, capture: EventCapture
) -> None:
    async with running_service(create_app) as svc:
        await load_directory(svc)
        created = await create(svc)
        first = await act(svc, "P-SW1", created, "first-signature")
        index = (await act(svc, "P-DS", first, "counter-signature")).json()
        bad = await svc.http.post(
            f"/v1/exemplars/{index['id']}/clones", json={"case_ids": ["C-1002", "C-2001"]}, headers=who(svc, "P-SW1")
        )
        assert bad.status_code == 422
        ok = await svc.http.post(f"/v1/exemplars/{index['id']}/clones", json={"case_ids": ["C-1002"]}, headers=who(svc, "P-SW1"))
        assert ok.status_code == 201, ok.text
        [note] = await capture.wait_for(events.INDEX_CHILD_CASE_NOTE_ADDED.type)
        assert note.data["case_id"] == "C-1002" and note.data["added_by"] == "P-SW1"
        await capture.flushed(svc.db)
        assert len(capture.of_type(events.INDEX_CHILD_CASE_NOTE_ADDED.type)) == 1  # nothing from the refused request


async def _signed_first(svc: ServiceClient, type_code: str, answers: dict[str, Any], case_id: str = "C-1001") -> Any:
    created = await create(svc, "P-TM1", case_id=case_id, type_code=type_code, answers=answers)
    return await act(svc, "P-TM1", created, "first-signature")


async def test_the_outcome_of_s47_enquiries_waits_for_a_counter_signed_strategy_discussion(
    service_env, capture: EventCapture
) -> None:
    async with running_service(create_app) as svc:
        await load_directory(svc)
        s47 = await _signed_first(svc, "S47OUT", complete_answers(OUTCOME_S47))
        s47_id = s47.json()["id"]

        # someone who may not counter-sign hears that first
        await act(svc, "P-DS", s47, "counter-signature", expect=403)

        async def refused(why: str) -> None:
            resp = await act(svc, "P-DM", s47, "counter-signature", {"comments": "Read"}, expect=409)
            problem = resp.json()
            assert resp.headers["content-type"].startswith("application/problem+json"), why
            assert (
                problem["type"].endswith("/strategy-discussion-not-signed")
                and problem["title"] == "Strategy discussion not signed off"
            ), why
            assert (problem["case_id"], problem["needs_type_code"]) == ("C-1001", "STRATD"), why
            assert "Strategy Discussion" in problem["detail"], why
            after = await _read(svc, "P-DM", s47_id)
            assert after.headers["ETag"] == s47.headers["ETag"] and after.json()["status"] == "first_signed", why

        await refused("no strategy discussion")
        stratd = await _signed_first(svc, "STRATD", complete_answers(STRATEGY_DISCUSSION))
        await refused("the strategy discussion is only first-signed")
        elsewhere = await _signed_first(svc, "STRATD", complete_answers(STRATEGY_DISCUSSION), case_id="C-1002")
        await act(svc, "P-TM1", elsewhere, "counter-signature")
        await refused("the strategy discussion counter-signed is a sibling's")
        await capture.flushed(svc.db)
        assert not [e for e in capture.of_type(events.EXEMPLAR_COUNTER_SIGNED.type) if e.data["exemplar_id"] == s47_id]

        await act(svc, "P-TM1", stratd, "counter-signature")
        done = await act(svc, "P-DM", s47, "counter-signature", {"comments": "Strategy discussion read; agency checks done"})
        assert done.json()["status"] == "counter_signed" and done.json()["current"]["counter_signature"]["by"] == "P-DM"
        [published] = [
            e for e in await capture.wait_for(events.EXEMPLAR_COUNTER_SIGNED.type, 3) if e.data["exemplar_id"] == s47_id
        ]
        assert published.data["counter_signed_by"] == "P-DM"
