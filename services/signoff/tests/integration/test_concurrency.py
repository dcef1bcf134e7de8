"""Two counter-signatures of the same version at once: one succeeds, the other is refused."""

from __future__ import annotations

import asyncio

from signoff import events, store
from signoff.main import create_app

from devstack.testing import EventCapture, running_service
from services.signoff.tests.integration.harness import act, create, if_match, load_directory, who


async def test_two_concurrent_counter_signatures_give_one_success_and_one_refusal(service_env, capture: EventCapture) -> None:
    async with running_service(create_app) as svc:
        await load_directory(svc)
        created = await create(svc)
        first = await act(svc, "P-SW1", created, "first-signature")
        x_id = first.json()["id"]

        async def counter_sign(person: str):
            return await svc.http.post(
                f"/v1/exemplars/{x_id}/counter-signature", json={"comments": f"signed by {person}"},
                headers={**who(svc, person), **if_match(first)},
            )

        results = await asyncio.gather(counter_sign("P-DS"), counter_sign("P-PS"))
        statuses = sorted(r.status_code for r in results)
        assert statuses[0] == 200 and statuses[1] in (409, 412), [r.text for r in results]
        winner = next(r for r in results if r.status_code == 200).json()["current"]["counter_signature"]
        loser = next(r for r in results if r.status_code != 200)
        assert loser.headers["content-type"].startswith("application/problem+json")

        doc = await svc.db[store.EXEMPLARS].find_one({"_id": x_id})
        assert doc["versions"][0]["counter_signature"]["by"] == winner["by"]
        assert doc["versions"][0]["counter_signature"]["comments"] == f"signed by {winner['by']}"
        assert await svc.db[store.CHRONOLOGY].count_documents({"kind": "counter_signed"}) == 1
        [published] = await capture.wait_for(events.EXEMPLAR_COUNTER_SIGNED.type)
        await capture.flushed(svc.db)  # every event written has arrived
        assert len(capture.of_type(events.EXEMPLAR_COUNTER_SIGNED.type)) == 1
        assert published.data["counter_signed_by"] == winner["by"]


async def test_a_save_from_a_stale_read_is_refused_by_the_stores_revision_guard(service_env) -> None:
    import pytest
    from shared.versioned import Stale
    from signoff.domain.access import Actor, Relation

    from services.signoff.tests.integration.harness import T0

    async with running_service(create_app) as svc:
        await load_directory(svc)
        created = await create(svc)
        x_id = created.json()["id"]
        first_read = await store.load(svc.db, x_id)
        second_read = await store.load(svc.db, x_id)
        assert first_read is not None and second_read is not None
        worker = Actor("P-SW1", frozenset({"social_worker"}), Relation.MEMBER)
        first_read.save_answers(worker, {"analysis": "from the first read"}, T0)
        second_read.save_answers(worker, {"analysis": "from the second read"}, T0)
        await svc.runtime.uow.run(lambda tx: store.save(tx, svc.db, first_read))
        with pytest.raises(Stale):
            await svc.runtime.uow.run(lambda tx: store.save(tx, svc.db, second_read))
        doc = await svc.db[store.EXEMPLARS].find_one({"_id": x_id})
        assert doc["revision"] == 2 and doc["versions"][0]["answers"]["analysis"] == "from the first read"
