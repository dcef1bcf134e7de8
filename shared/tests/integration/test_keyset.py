"""Keyset paging against real MongoDB: the documents matching the filters given (a None filter is
not applied), by id, after the last id of the page before, at most ``limit`` of them."""

from __future__ import annotations

from shared.keyset import matching, page_by_id

from devstack.wiring import Wiring


def test_a_filter_given_as_none_is_not_applied() -> None:
    assert matching({"team_id": "T1", "month": None, "viewers": "P1"}) == {"team_id": "T1", "viewers": "P1"}


async def test_pages_follow_the_ids_after_the_last_one_read_among_the_matching_documents(wiring: Wiring) -> None:
    things = wiring.db.things
    await things.insert_many([{"_id": f"t-{n}", "team_id": "T1" if n % 2 else "T2"} for n in range(1, 8)])

    first = await page_by_id(things, {"team_id": "T1", "month": None}, after=None, limit=2)
    second = await page_by_id(things, {"team_id": "T1"}, after=first[-1]["_id"], limit=2)
    everything = await page_by_id(things, {}, after="t-5", limit=10)

    assert [d["_id"] for d in first] == ["t-1", "t-3"]
    assert [d["_id"] for d in second] == ["t-5", "t-7"]
    assert [d["_id"] for d in everything] == ["t-6", "t-7"]
