"""Bad input gets a problem+json answer and changes nothing: no stored change, no event."""

from __future__ import annotations

from typing import Any

import pytest
from signoff import events, store
from signoff.main import create_app

from devstack.testing import EventCapture, ServiceClient, running_service
from devstack.testing import problem as is_problem
from services.signoff.tests.integration.harness import act, create, if_match, load_directory, signed_off, who


async def snapshot(svc: ServiceClient) -> list[Any]:
    return [
        await svc.db[c].find({}, {"_id": 1, "revision": 1, "versions": 1}).sort("_id", 1).to_list()
        for c in (store.EXEMPLARS, store.CHRONOLOGY, store.MESSAGES)
    ]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"case_id": "C-1001", "type_code": "NOSUCH", "answers": {}}, "type_code"),
        ({"case_id": "C-404", "type_code": "INIASS", "answers": {}}, "case_id"),
        ({"case_id": "C-1001", "type_code": "INIASS", "answers": {"child_seen": "yes", "date_commenced": "2/3/26"}}, "answers.child_seen"),
        ({"case_id": "C-1001", "type_code": "INIASS", "answers": {"no_such_question": 1}}, "answers.no_such_question"),
    ],
)
async def test_starting_with_an_unknown_type_or_case_or_malformed_answers_changes_nothing(
    service_env, capture: EventCapture, body: dict[str, Any], field: str
) -> None:
    async with running_service(create_app) as svc:
        await load_directory(svc)
        resp = await svc.http.post("/v1/exemplars", json=body, headers=who(svc, "P-SW1"))
        problem = is_problem(resp, 422)
        assert field in {e["field"] for e in problem["errors"]}
        assert await svc.db[store.EXEMPLARS].count_documents({}) == 0
        assert await svc.db[store.CHRONOLOGY].count_documents({}) == 0
        await capture.flushed(svc.db)  # every event written has arrived
        assert capture.events == []


async def test_answers_that_are_not_an_object_are_refused(service_env) -> None:
    async with running_service(create_app) as svc:
        await load_directory(svc)
        resp = await svc.http.post("/v1/exemplars", json={"case_id": "C-1001", "type_code": "INIASS", "answers": ["x"]}, headers=who(svc, "P-SW1"))
        is_problem(resp, 422)
        assert await svc.db[store.EXEMPLARS].count_documents({}) == 0


async def test_a_closed_case_gets_no_new_exemplar(service_env) -> None:
    async with running_service(create_app) as svc:
        await load_directory(svc)
        resp = await svc.http.post("/v1/exemplars", json={"case_id": "C-3001", "type_code": "INIASS"}, headers=who(svc, "P-SWCP"))
        assert "closed" in is_problem(resp, 409)["detail"]


async def test_edits_with_malformed_answers_or_a_wrong_or_missing_if_match_change_nothing(service_env, capture: EventCapture) -> None:
    async with running_service(create_app) as svc:
        await load_directory(svc)
        created = await create(svc)
        x_id = created.json()["id"]
        await capture.wait_for(events.EXEMPLAR_CREATED.type)
        before = await snapshot(svc)
        url = f"/v1/exemplars/{x_id}/answers"
        me = who(svc, "P-SW1")

        malformed = await svc.http.patch(url, json={"answers": {"child_seen": "no", "analysis": "new"}}, headers={**me, **if_match(created)})
        assert {e["field"] for e in is_problem(malformed, 422)["errors"]} == {"answers.child_seen"}
        stale = await svc.http.patch(url, json={"answers": {"analysis": "new"}}, headers={**me, "If-Match": '"7"'})
        assert is_problem(stale, 412)["current_version"] == 1
        missing = await svc.http.patch(url, json={"answers": {"analysis": "new"}}, headers=me)
        is_problem(missing, 428)
        garbled = await svc.http.patch(url, json={"answers": {"analysis": "new"}}, headers={**me, "If-Match": "yesterday"})
        is_problem(garbled, 400)
        stale_sign = await svc.http.post(f"/v1/exemplars/{x_id}/first-signature", json={}, headers={**me, "If-Match": '"0"'})
        is_problem(stale_sign, 412)
        unknown_signer = await act(svc, "P-SW1", created, "first-signature", {"counter_signer_id": "P-NOBODY"}, expect=422)
        assert unknown_signer.json()["errors"][0]["field"] == "counter_signer_id"
        not_a_counter_signer = await act(svc, "P-SW1", created, "first-signature", {"counter_signer_id": "P-SW2"}, expect=422)
        assert "cannot counter-sign" in not_a_counter_signer.json()["detail"]

        assert await snapshot(svc) == before
        await capture.flushed(svc.db)  # every event written has arrived
        assert [e.type for e in capture.events] == [events.EXEMPLAR_CREATED.type]


async def test_a_stale_counter_signature_or_unlock_changes_nothing(service_env, capture: EventCapture) -> None:
    async with running_service(create_app) as svc:
        await load_directory(svc)
        created = await create(svc)
        first = await act(svc, "P-SW1", created, "first-signature")
        await capture.wait_for(events.EXEMPLAR_FIRST_SIGNED.type)
        before = await snapshot(svc)
        await act(svc, "P-DS", created, "counter-signature", expect=412)  # If-Match of the draft
        await act(svc, "P-DS", first, "unlock", {"reason": "x"}, expect=409)  # not locked yet
        await act(svc, "P-DS", first, "unlock", {"reason": ""}, expect=422)
        assert await snapshot(svc) == before
        await capture.flushed(svc.db)  # every event written has arrived
        assert not capture.of_type(events.EXEMPLAR_COUNTER_SIGNED.type) and not capture.of_type(events.EXEMPLAR_UNLOCKED.type)


async def test_unknown_exemplars_versions_and_cases_are_404(service_env) -> None:
    async with running_service(create_app) as svc:
        await load_directory(svc)
        done = await signed_off(svc)
        me = who(svc, "P-SW1")
        is_problem(await svc.http.get("/v1/exemplars/nope", headers=me), 404)
        is_problem(await svc.http.get(f"/v1/exemplars/{done.json()['id']}/versions/2", headers=me), 404)
        is_problem(await svc.http.get("/v1/cases/C-404/chronology", headers=me), 404)
        is_problem(await svc.http.get("/v1/cases/C-404/exemplars", headers=me), 404)
        is_problem(await svc.http.get("/v1/exemplars", headers={}), 405)
        is_problem(await svc.http.get(f"/v1/exemplars/{done.json()['id']}"), 401)


async def test_an_unknown_type_and_an_unknown_case_are_both_reported(service_env) -> None:
    async with running_service(create_app) as svc:
        await load_directory(svc)
        resp = await svc.http.post("/v1/exemplars", json={"case_id": "C-404", "type_code": "NOSUCH"}, headers=who(svc, "P-SW1"))
        assert {e["field"] for e in is_problem(resp, 422)["errors"]} == {"type_code", "case_id"}


async def test_a_repeated_creation_with_the_same_idempotency_key_creates_one_exemplar(service_env, capture: EventCapture) -> None:
    async with running_service(create_app) as svc:
        await load_directory(svc)
        body = {"case_id": "C-1001", "type_code": "INIASS", "answers": {"analysis": "x"}}
        headers = {**who(svc, "P-SW1"), "Idempotency-Key": "create-1"}
        first = await svc.http.post("/v1/exemplars", json=body, headers=headers)
        again = await svc.http.post("/v1/exemplars", json=body, headers=headers)
        assert first.status_code == again.status_code == 201
        assert again.json()["id"] == first.json()["id"] and again.headers["Idempotent-Replayed"] == "true"
        other = await svc.http.post("/v1/exemplars", json={**body, "case_id": "C-1002"}, headers=headers)
        is_problem(other, 422)
        assert await svc.db[store.EXEMPLARS].count_documents({}) == 1
        await capture.flushed(svc.db)  # every event written has arrived
        assert len(capture.of_type(events.EXEMPLAR_CREATED.type)) == 1
