"""Applying another service's record states in any order: only a newer state is applied."""

from __future__ import annotations

from shared.projection import apply_if_newer, apply_many_if_newer

from devstack.wiring import Wiring


async def test_newer_states_apply_and_older_or_repeated_ones_never_overwrite(wiring: Wiring) -> None:
    people = wiring.db.people
    assert await apply_if_newer(people, "P-1", 2, {"team_id": "T-2"}, also={"$inc": {"applied": 1}})
    assert not await apply_if_newer(people, "P-1", 1, {"team_id": "T-1"}, also={"$inc": {"applied": 1}}), "older, arriving late"
    assert not await apply_if_newer(people, "P-1", 2, {"team_id": "T-X"}, also={"$inc": {"applied": 1}}), "the same version again"
    assert await people.find_one({"_id": "P-1"}) == {"_id": "P-1", "team_id": "T-2", "version": 2, "applied": 1}
    assert await apply_if_newer(people, "P-1", 5, {"team_id": "T-5"}, also={"$inc": {"applied": 1}})
    assert await people.find_one({"_id": "P-1"}) == {"_id": "P-1", "team_id": "T-5", "version": 5, "applied": 2}


async def test_inside_a_transaction_an_older_state_leaves_the_transaction_usable(wiring: Wiring) -> None:
    people = wiring.db.people
    await apply_if_newer(people, "P-2", 3, {"team_id": "T-3"})

    async def work(tx):
        applied = await apply_if_newer(people, "P-2", 1, {"team_id": "T-1"}, session=tx.session)
        await wiring.db.other.insert_one({"_id": "written-after"}, session=tx.session)
        return applied

    assert await wiring.uow.run(work) is False
    assert (await people.find_one({"_id": "P-2"}))["team_id"] == "T-3"
    assert await wiring.db.other.find_one({"_id": "written-after"}) is not None, "the transaction committed"


async def test_many_states_apply_in_two_commands_with_the_same_rule(wiring: Wiring) -> None:
    people = wiring.db.people
    await apply_if_newer(people, "P-held", 4, {"team_id": "T-4"})
    applied = await apply_many_if_newer(
        people,
        [
            ("P-new", 1, {"team_id": "T-1"}),
            ("P-held", 3, {"team_id": "T-3"}),  # older than what is held
            ("P-twice", 2, {"team_id": "T-2"}),
            ("P-twice", 1, {"team_id": "T-1"}),  # the same record, older, later in the run
            ("P-held", 6, {"team_id": "T-6"}),
        ],
        also={"$inc": {"applied": 1}},
    )
    assert applied == {"P-new", "P-twice", "P-held"}
    assert await people.find_one({"_id": "P-held"}) == {"_id": "P-held", "team_id": "T-6", "version": 6, "applied": 1}
    assert await people.find_one({"_id": "P-twice"}) == {"_id": "P-twice", "team_id": "T-2", "version": 2, "applied": 1}
    assert await apply_many_if_newer(people, [("P-new", 1, {"team_id": "T-X"})]) == set(), "the same version again"
    assert (await people.find_one({"_id": "P-new"}))["team_id"] == "T-1"
    assert await apply_many_if_newer(people, []) == set()
