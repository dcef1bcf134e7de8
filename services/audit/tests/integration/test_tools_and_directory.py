"""Audit tools as data over the API (seeded once, versioned, added by QA staff), and the
directory projection fed by the gateway's events."""

from __future__ import annotations

from datetime import UTC, date, datetime

from audit.common.directory import CASE_CHANGED, CASES, PEOPLE, PERSON_CHANGED, CaseChanged, PersonChanged
from audit.main import create_app
from shared.consumer import handled_event_ids

from devstack.testing import EventCapture, eventually, running_service

KENT = "kent-online-peer-review"


async def test_tools_are_seeded_once_read_by_anyone_and_versioned_by_qa_staff(service_env) -> None:
    async with running_service(create_app) as svc:
        http = svc.http
        anyone = svc.as_person("P-SW", roles=["social_worker"])
        tools = (await http.get("/v1/tools", headers=anyone)).json()["items"]
        assert [(t["tool_id"], t["latest_version"]) for t in tools] == [
            ("hampshire-quality-practice", 1), ("hillingdon-single-agency", 1), (KENT, 1), ("multi-agency", 1), ("themed-supervision-and-decisions", 1),
        ]
        page = (await http.get("/v1/tools?limit=2", headers=anyone)).json()
        assert len(page["items"]) == 2 and page["next"]
        form = (await http.get(f"/v1/tools/{KENT}/versions/1/form?case_type=CIN&open_band=under_3_months", headers=anyone)).json()
        assert [s["key"] for s in form["sections"]][0] == "referral_and_initial_response"

        latest = await http.get(f"/v1/tools/{KENT}", headers=anyone)
        definition = latest.json()["definition"]
        definition["title"] = "Online peer review case file audit (2027)"
        qa = svc.as_person("P-QA", roles=["qa_officer"])
        assert (await http.post(f"/v1/tools/{KENT}/versions", json=definition, headers={**anyone, "If-Match": '"1"'})).status_code == 403
        unnamed = await http.post(f"/v1/tools/{KENT}/versions", json=definition, headers=qa)
        assert unnamed.status_code == 428 and f"tool '{KENT}' exists, at version 1" in unnamed.json()["detail"]
        added = await http.post(f"/v1/tools/{KENT}/versions", json=definition, headers={**qa, "If-Match": latest.headers["ETag"], "Idempotency-Key": "v2"})
        assert added.status_code == 201, added.text
        assert added.json()["version"] == 2 and added.json()["created_by"] == "P-QA"
        replay = await http.post(f"/v1/tools/{KENT}/versions", json=definition, headers={**qa, "If-Match": latest.headers["ETag"], "Idempotency-Key": "v2"})
        assert replay.status_code == 201 and replay.json()["version"] == 2
        stale = await http.post(f"/v1/tools/{KENT}/versions", json=definition, headers={**qa, "If-Match": '"1"'})
        assert stale.status_code == 412 and stale.json()["current_version"] == 2
        broken = {**definition, "moderation": True, "peer_review": False}
        assert (await http.post(f"/v1/tools/{KENT}/versions", json=broken, headers={**qa, "If-Match": '"2"'})).status_code == 422
        versions = (await http.get(f"/v1/tools/{KENT}/versions", headers=anyone)).json()["items"]
        assert [v["version"] for v in versions] == [2, 1]
        assert versions[1]["definition"]["title"] == "Online peer review case file audit"  # nothing written is lost

        new_tool = {**definition, "title": "Themed audit: neglect", "programme": "themed"}
        created = await http.post("/v1/tools/themed-neglect/versions", json=new_tool, headers=qa)
        assert created.status_code == 201 and created.json()["version"] == 1

    # A restart (or a second replica) seeds nothing again and keeps the added versions.
    async with running_service(create_app) as svc:
        tools = (await svc.http.get("/v1/tools", headers=svc.as_person("P-SW"))).json()["items"]
        assert {t["tool_id"]: t["latest_version"] for t in tools}[KENT] == 2
        assert len(tools) == 6


async def _publish(svc, event_type, data, subject: str) -> None:
    envelope = event_type.envelope(data, source="/qa/gateway", subject=subject, time=datetime.now(UTC))
    await svc.runtime.publisher.publish(envelope.to_json(), routing_key=event_type.routing_key, message_id=envelope.id, event_type=envelope.type,
                                        internal=event_type.internal)


async def test_the_directory_projection_follows_the_gateways_events_and_ignores_older_versions(service_env, capture: EventCapture) -> None:
    async with running_service(create_app) as svc:
        await _publish(svc, PERSON_CHANGED, PersonChanged(person_id="P-1", version=2, name="Ann", roles=["practice_development_officer"], line_manager_id="P-2"), "person/P-1")
        await _publish(svc, CASE_CHANGED, CaseChanged(case_id="C-1", version=1, case_type="CIC", team_id="T-1", opened_on=date(2026, 1, 2)), "case/C-1")
        await eventually(lambda: svc.db[CASES].find_one({"_id": "C-1"}), message="case projected")
        await eventually(lambda: svc.db[PEOPLE].find_one({"_id": "P-1"}), message="person projected")
        await _publish(svc, PERSON_CHANGED, PersonChanged(person_id="P-1", version=1, name="Ann", roles=["social_worker"]), "person/P-1")

        async def all_handled() -> bool:
            return len(await handled_event_ids(svc.db)) == 3

        await eventually(all_handled, message="three events handled")
        person = await svc.db[PEOPLE].find_one({"_id": "P-1"})
        assert person["version"] == 2 and person["roles"] == ["practice_development_officer"]
        case = await svc.db[CASES].find_one({"_id": "C-1"})
        assert case["case_type"] == "CIC" and case["opened_on"] == "2026-01-02"
