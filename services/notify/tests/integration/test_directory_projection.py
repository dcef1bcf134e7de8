"""Notify keeps its own copy of who people are from the directory's events."""

from __future__ import annotations

from datetime import UTC, datetime

from notify.directory import PERSON_CHANGED, RECIPIENTS, PersonChanged
from notify.main import create_app
from shared.consumer import handled_event_ids

from devstack.testing import EventCapture, eventually, running_service


async def _publish(svc, person_id: str, version: int, email: str) -> None:
    data = PersonChanged(person_id=person_id, version=version, name="Ann Example", email=email, roles=["social_worker"], team_id="T1")
    envelope = PERSON_CHANGED.envelope(data, source="/qa/gateway", subject=f"person/{person_id}", time=datetime.now(UTC))
    await svc.runtime.publisher.publish(envelope.to_json(), routing_key=PERSON_CHANGED.routing_key, message_id=envelope.id, event_type=envelope.type, internal=True)


async def test_a_person_change_is_projected_and_an_older_version_arriving_late_changes_nothing(service_env, capture: EventCapture) -> None:
    async with running_service(create_app) as svc:
        await _publish(svc, "P-1", 2, "new@council.example")
        recipients = svc.db[RECIPIENTS]
        await eventually(lambda: recipients.find_one({"_id": "P-1"}), message="projected")
        await _publish(svc, "P-1", 1, "old@council.example")
        await capture.wait_for(PERSON_CHANGED.routing_key, 2)
        await eventually(lambda: handled_event_ids(svc.db), message="handled")

        async def both_handled() -> bool:
            return len(await handled_event_ids(svc.db)) == 2

        await eventually(both_handled, message="both events handled")
        projected = await recipients.find_one({"_id": "P-1"})
        assert projected["email"] == "new@council.example"
        assert projected["version"] == 2
        assert projected["changes_applied"] == 1
