"""Keyset paging against real MongoDB: the documents matching the filters given (a None filter is
not applied), by id, after the last id of the page before, at most ``limit`` of them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from shared.keyset import matching, page_by_id, page_newest_first

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


async def test_newest_first_pages_follow_time_then_id_down_from_the_last_one_read(wiring: Wiring) -> None:
    jobs = wiring.db.jobs
    at = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
    # j-2, j-3 and j-4 were created in the same millisecond: their ids break the tie.
    created = {"j-1": at, "j-2": at + timedelta(seconds=1), "j-3": at + timedelta(seconds=1), "j-4": at + timedelta(seconds=1), "j-5": at + timedelta(seconds=2)}
    await jobs.insert_many([{"_id": ident, "created_at": when, "kind": "people" if ident != "j-3" else "teams"} for ident, when in created.items()])

    def ids(docs: list[dict[str, object]]) -> list[object]:
        return [d["_id"] for d in docs]

    first = await page_newest_first(jobs, {}, before=None, limit=2)
    second = await page_newest_first(jobs, {}, before=(first[-1]["created_at"], first[-1]["_id"]), limit=2)
    third = await page_newest_first(jobs, {}, before=(second[-1]["created_at"], second[-1]["_id"]), limit=2)
    assert (ids(first), ids(second), ids(third)) == (["j-5", "j-4"], ["j-3", "j-2"], ["j-1"])
    people = await page_newest_first(jobs, {"kind": "people", "status": None}, before=(created["j-4"], "j-4"), limit=5)
    assert ids(people) == ["j-2", "j-1"]
