"""Notify records how far it has applied the directory's numbered changes, and reports it
(``notify.directory.applied.v1``) only over changes applied without a gap."""

from __future__ import annotations

from notify.directory import APPLIED, PERSON_CHANGED, RECIPIENTS, PersonChanged
from notify.main import create_app
from shared.directory_sync import APPLIED as APPLIED_COLLECTION

from devstack.testing import EventCapture, eventually, publish, running_service


def _person(person_id: str, sequence: int) -> PersonChanged:
    return PersonChanged(person_id=person_id, version=1, sequence=sequence, name=person_id, email=f"{person_id.lower()}@council.example", roles=["social_worker"])


async def test_changes_arriving_out_of_order_are_reported_only_once_applied_without_a_gap(service_env, capture: EventCapture) -> None:
    async with running_service(create_app) as svc:
        tracker = svc.db[APPLIED_COLLECTION]
        # 2 and 3 arrive before 1: applied, but nothing is reported applied through them yet.
        for person_id, sequence in (("P-2", 2), ("P-3", 3)):
            await publish(svc, PERSON_CHANGED, _person(person_id, sequence))

        async def held(count: int) -> bool:
            return await svc.db[RECIPIENTS].count_documents({}) == count

        await eventually(lambda: held(2), message="two people projected")
        doc = await tracker.find_one({"_id": "person"})
        assert doc["through"] == 0 and doc["pending"] == [2, 3]
        await capture.flushed(svc.db)
        assert capture.of_type(APPLIED.routing_key) == []

        # 1 fills the gap: applied through 3, reported once, by notify.
        first = await publish(svc, PERSON_CHANGED, _person("P-1", 1))
        reports = await capture.wait_for(APPLIED.routing_key)
        assert reports[0].source == "/qa/notify" and reports[0].data == {"kind": "person", "through": 3}
        doc = await tracker.find_one({"_id": "person"})
        assert doc["through"] == 3 and doc["pending"] == []

        # The same change again, and a change after a gap (5 without 4): nothing more reported.
        await publish(svc, PERSON_CHANGED, _person("P-1", 1), event_id=first.id)
        await publish(svc, PERSON_CHANGED, _person("P-5", 5))
        await eventually(lambda: held(4), message="P-5 projected")

        async def pending_five() -> bool:
            found = await tracker.find_one({"_id": "person"})
            return bool(found and found["pending"] == [5])

        await eventually(pending_five, message="5 waits for 4")
        await capture.flushed(svc.db)
        assert [e.data["through"] for e in capture.of_type(APPLIED.routing_key)] == [3]
        await publish(svc, PERSON_CHANGED, _person("P-4", 4))
        reports = await capture.wait_for(APPLIED.routing_key, 2)
        assert [e.data["through"] for e in reports] == [3, 5]
