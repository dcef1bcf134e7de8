"""The service's copy of the directory, fed by the gateway's events: a case and a person become
known, and an older version arriving late changes nothing."""

from __future__ import annotations

from datetime import UTC, datetime

from resolution.directory import CASE_CHANGED, CASES, PEOPLE, PERSON_CHANGED
from shared.consumer import handled_event_ids

from devstack.testing import eventually


async def _publish(svc, event_type, data: dict, subject: str) -> None:
    envelope = event_type.envelope(event_type.data_model(**data), source="/qa/gateway", subject=subject, time=datetime.now(UTC))
    await svc.runtime.publisher.publish(envelope.to_json(), routing_key=event_type.routing_key, message_id=envelope.id, event_type=envelope.type,
                                        internal=event_type.internal)


async def test_a_case_from_the_directory_can_have_a_resolution_raised(resolution) -> None:
    svc = resolution.svc
    await _publish(svc, PERSON_CHANGED, {"person_id": "SW-50", "version": 1, "roles": ["social_worker"]}, "person/SW-50")
    await _publish(
        svc, CASE_CHANGED,
        {"case_id": "CASE-50", "version": 2, "case_type": "CP", "status": "open", "team_id": "T-5", "allocated_worker_id": "SW-50"},
        "case/CASE-50",
    )
    await eventually(lambda: svc.db[CASES].find_one({"_id": "CASE-50"}), message="case projected")
    await eventually(lambda: svc.db[PEOPLE].find_one({"_id": "SW-50"}), message="person projected")
    await _publish(svc, CASE_CHANGED, {"case_id": "CASE-50", "version": 1, "case_type": "CP", "status": "closed", "team_id": "T-9"}, "case/CASE-50")

    async def both_handled() -> bool:
        return len(await handled_event_ids(svc.db, type=CASE_CHANGED.routing_key)) == 2

    await eventually(both_handled, message="both case events handled")
    form = await resolution.raise_form(case_id="CASE-50")
    assert (form["team_id"], form["case_type"], form["contacts"]["allocated_worker_id"]) == ("T-5", "CP", "SW-50")
    delegated = await resolution.act("POST", f"/v1/forms/{form['id']}/stages/informal/section/delegation", "IRO-1", 1, {"delegate_id": "SW-50"})
    assert delegated["stages"][0]["section"]["delegate_id"] == "SW-50"
