"""Sign-off's copy of the directory, fed by the gateway's events over RabbitMQ, and the paginated
lists per case and per person."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from shared.consumer import handled_event_ids
from signoff import directory, store
from signoff.directory import CASE_CHANGED, PERSON_CHANGED, TEAM_CHANGED, CaseChanged, PersonChanged, TeamChanged
from signoff.main import create_app

from devstack.testing import EventCapture, ServiceClient, eventually, running_service
from services.signoff.tests.integration.harness import create, load_directory, signed_off, who


async def publish(svc: ServiceClient, event_type: Any, data: Any, subject: str) -> None:
    envelope = event_type.envelope(data, source="/qa/gateway", subject=subject, time=datetime.now(UTC))
    await svc.runtime.publisher.publish(envelope.to_json(), routing_key=event_type.routing_key, message_id=envelope.id, event_type=envelope.type,
                                        internal=event_type.internal)


async def test_cases_people_and_teams_arrive_from_the_directorys_events(service_env, capture: EventCapture) -> None:
    async with running_service(create_app) as svc:
        await publish(svc, TEAM_CHANGED, TeamChanged(team_id="T-X", version=1, district="Dover", manager_id="P-M"), "team/T-X")
        await publish(svc, PERSON_CHANGED, PersonChanged(person_id="P-W", version=1, roles=["social_worker"], team_id="T-X"), "person/P-W")
        await publish(svc, CASE_CHANGED, CaseChanged(case_id="C-X", version=2, case_type="CP", status="open", team_id="T-X",
                                                     sibling_case_ids=["C-Y"]), "case/C-X")
        await eventually(lambda: directory.case(svc.db, "C-X"), message="case projected")
        # an older state of the case arriving late changes nothing
        await publish(svc, CASE_CHANGED, CaseChanged(case_id="C-X", version=1, case_type="CIN", status="closed", team_id="T-OLD"), "case/C-X")

        async def all_handled() -> bool:
            return len(await handled_event_ids(svc.db)) == 4

        await eventually(all_handled, message="four directory events handled")
        case = await directory.case(svc.db, "C-X")
        assert case is not None and (case.team_id, case.status, case.sibling_case_ids) == ("T-X", "open", frozenset({"C-Y"}))
        person = await directory.person(svc.db, "P-W")
        assert person is not None and person.team_id == "T-X"

        resp = await svc.http.post(
            "/v1/exemplars", json={"case_id": "C-X", "type_code": "STRATD"}, headers=svc.as_person("P-W", roles=["social_worker"], teams=["T-X"])
        )
        assert resp.status_code == 201, resp.text
        assert resp.json()["team_id"] == "T-X"


async def test_a_childs_exemplars_and_a_persons_are_listed_in_pages(service_env) -> None:
    async with running_service(create_app) as svc:
        await load_directory(svc)
        ids = [(await create(svc)).json()["id"] for _ in range(3)]
        done = (await signed_off(svc)).json()
        ids.append(done["id"])
        first = (await svc.http.get("/v1/cases/C-1001/exemplars?limit=3", headers=who(svc, "P-SW1"))).json()
        rest = (await svc.http.get(f"/v1/cases/C-1001/exemplars?limit=3&cursor={first['next']}", headers=who(svc, "P-SW1"))).json()
        assert [e["id"] for e in first["items"] + rest["items"]] == ids and rest["next"] is None
        assert rest["items"][0]["status"] == "counter_signed" and rest["items"][0]["counter_signed_on"]

        mine = (await svc.http.get("/v1/people/P-DS/exemplars", headers=who(svc, "P-DS"))).json()
        assert [e["id"] for e in mine["items"]] == [done["id"]]
        by_line_manager = await svc.http.get("/v1/people/P-SW1/exemplars", headers=who(svc, "P-DS"))
        assert len(by_line_manager.json()["items"]) == 4
        assert (await svc.http.get("/v1/people/P-SW1/exemplars", headers=who(svc, "P-SW2"))).status_code == 404
        bad = await svc.http.get("/v1/cases/C-1001/exemplars?cursor=not-a-cursor", headers=who(svc, "P-SW1"))
        assert bad.status_code == 400
        assert await svc.db[store.EXEMPLARS].count_documents({"case_id": "C-1001"}) == 4


async def test_reading_an_exemplar_gives_its_etag_assistant_and_every_version(service_env) -> None:
    async with running_service(create_app) as svc:
        await load_directory(svc)
        created = await create(svc, answers={"date_commenced": "2026-03-02"})
        x_id = created.json()["id"]
        read = await svc.http.get(f"/v1/exemplars/{x_id}", headers=who(svc, "P-TM1"))
        assert read.status_code == 200 and read.headers["ETag"] == '"1"'
        assistant = (await svc.http.get(f"/v1/exemplars/{x_id}/assistant", headers=who(svc, "P-SW1"))).json()
        assert [a["question_id"] for a in assistant] == ["child_seen", "analysis", "further_action"]
        # an oversight role reads across teams
        assert (await svc.http.get(f"/v1/exemplars/{x_id}", headers=svc.as_person("P-IRO", roles=["iro"]))).status_code == 200


async def test_a_directory_change_applied_is_seen_by_the_next_action_though_the_last_one_cached_the_case(service_env) -> None:
    """Permission checks read the directory through the process's cache (``directory.CACHE``); a
    numbered change applied by the projection moves the applied record, so the next check reads again."""
    async with running_service(create_app) as svc:
        await publish(svc, TEAM_CHANGED, TeamChanged(team_id="T-X", version=1, sequence=1, district="Dover", manager_id="P-M"), "team/T-X")
        await publish(svc, TEAM_CHANGED, TeamChanged(team_id="T-Y", version=1, sequence=2, district="Dover", manager_id="P-N"), "team/T-Y")
        await publish(svc, PERSON_CHANGED, PersonChanged(person_id="P-W", version=1, sequence=1, roles=["social_worker"], team_id="T-X"), "person/P-W")
        await publish(svc, CASE_CHANGED, CaseChanged(case_id="C-X", version=1, sequence=1, case_type="CP", status="open", team_id="T-X"), "case/C-X")
        await eventually(lambda: directory.case(svc.db, "C-X"), message="case projected")
        await eventually(lambda: directory.person(svc.db, "P-W"), message="person projected")
        worker = svc.as_person("P-W", roles=["social_worker"], teams=["T-X"])
        created = await svc.http.post("/v1/exemplars", json={"case_id": "C-X", "type_code": "STRATD"}, headers=worker)
        assert created.status_code == 201, created.text
        exemplar = f"/v1/exemplars/{created.json()['id']}"
        assert (await svc.http.get(exemplar, headers=worker)).status_code == 200  # the case and team now cached
        # Written behind the projection's back, the cache still answers from what it read...
        await svc.db[directory.CASES].update_one({"_id": "C-X"}, {"$set": {"status": "behind-the-back"}})
        assert (await svc.http.get(exemplar, headers=worker)).status_code == 200
        # ...but the case moving to another team, applied as the directory's next numbered change, is seen at once.
        await publish(svc, CASE_CHANGED, CaseChanged(case_id="C-X", version=2, sequence=2, case_type="CP", status="open", team_id="T-Y"), "case/C-X")

        async def moved() -> bool:
            doc = await svc.db[directory.CASES].find_one({"_id": "C-X"})
            return doc is not None and doc["team_id"] == "T-Y"

        await eventually(moved, message="the move projected")
        assert (await svc.http.get(exemplar, headers=worker)).status_code == 404, "a worker of another team no longer sees it"
