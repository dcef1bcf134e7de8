"""Version-guarded writes against real MongoDB: a write from a stale read changes nothing and says
which version the record is at; a record that is not there says so; a first version that meets
an existing record is stale, not a crash; and all of it inside a unit of work's transaction."""

from __future__ import annotations

import pytest
from pymongo import ASCENDING, IndexModel
from pymongo.errors import BulkWriteError, DuplicateKeyError
from shared.mongo import Transaction
from shared.versioned import (
    Snapshots,
    Stale,
    current_version,
    insert_many_versioned,
    insert_versioned,
    replace_many_versioned,
    replace_versioned,
    replace_versioned_at_end,
    replace_versioned_returning,
    update_versioned,
)

from devstack.wiring import Wiring


class Thing:
    """An object a store made from a record (what ``Snapshots`` keeps records beside)."""


async def test_a_replace_at_the_version_read_moves_the_record_on(wiring: Wiring) -> None:
    things = wiring.db.things
    await things.insert_one({"_id": "t-1", "version": 1, "name": "first"})

    await replace_versioned(things, "t-1", {"_id": "t-1", "version": 2, "name": "second"}, 1, what="thing")

    assert await things.find_one({"_id": "t-1"}) == {"_id": "t-1", "version": 2, "name": "second"}


async def test_a_replace_from_a_stale_read_changes_nothing_and_says_the_version_now(wiring: Wiring) -> None:
    things = wiring.db.things
    await things.insert_one({"_id": "t-1", "version": 3, "name": "theirs"})

    with pytest.raises(Stale) as caught:
        await replace_versioned(things, "t-1", {"_id": "t-1", "version": 3, "name": "mine"}, 2, what="thing")

    assert (caught.value.what, caught.value.current, caught.value.expected, caught.value.ident) == ("thing", 3, 2, "t-1")
    assert await things.find_one({"_id": "t-1"}) == {"_id": "t-1", "version": 3, "name": "theirs"}


async def test_a_replace_of_a_record_that_is_not_there_is_stale_with_no_current_version(wiring: Wiring) -> None:
    with pytest.raises(Stale) as caught:
        await replace_versioned(wiring.db.things, "gone", {"_id": "gone", "version": 2}, 1, what="thing")

    assert (caught.value.current, caught.value.expected, caught.value.ident) == (None, 1, "gone")
    assert await wiring.db.things.count_documents({}) == 0  # and nothing was created


async def test_a_replace_returning_gives_what_was_stored_and_writes_the_new_version(wiring: Wiring) -> None:
    things = wiring.db.things
    await things.insert_one({"_id": "t-1", "version": 1, "name": "first", "team": "T-1", "notes": "long"})

    before = await replace_versioned_returning(
        things, "t-1", {"_id": "t-1", "version": 2, "name": "second", "team": "T-2"}, 1, what="thing", projection={"team": 1}
    )

    assert before == {"_id": "t-1", "version": 1, "team": "T-1"}  # the projection and the version, as it was
    assert await things.find_one({"_id": "t-1"}) == {"_id": "t-1", "version": 2, "name": "second", "team": "T-2"}
    whole = await replace_versioned_returning(things, "t-1", {"_id": "t-1", "version": 3}, 2, what="thing", projection=None)
    assert whole == {"_id": "t-1", "version": 2, "name": "second", "team": "T-2"}


async def test_a_replace_returning_from_a_stale_read_or_of_nothing_changes_nothing(wiring: Wiring) -> None:
    things = wiring.db.things
    await things.insert_one({"_id": "r-1", "revision": 5, "name": "theirs"})

    with pytest.raises(Stale) as caught:
        await replace_versioned_returning(
            things, "r-1", {"_id": "r-1", "revision": 5, "name": "mine"}, 4, what="thing", projection={"name": 1}, version_field="revision"
        )
    assert (caught.value.current, caught.value.expected, caught.value.ident) == (5, 4, "r-1")
    assert await things.find_one({"_id": "r-1"}) == {"_id": "r-1", "revision": 5, "name": "theirs"}
    with pytest.raises(Stale) as missing:
        await replace_versioned_returning(things, "gone", {"_id": "gone", "version": 2}, 1, what="thing", projection=None)
    assert (missing.value.current, missing.value.expected) == (None, 1)
    assert await things.count_documents({}) == 1


async def test_another_version_field_guards_the_same_way(wiring: Wiring) -> None:
    exemplars = wiring.db.exemplars
    await exemplars.insert_one({"_id": "x-1", "revision": 4})

    with pytest.raises(Stale) as caught:
        await replace_versioned(exemplars, "x-1", {"_id": "x-1", "revision": 5}, 3, what="exemplar", version_field="revision")
    assert caught.value.current == 4
    await replace_versioned(exemplars, "x-1", {"_id": "x-1", "revision": 5, "n": 1}, 4, what="exemplar", version_field="revision")

    assert await current_version(exemplars, "x-1", version_field="revision") == 5


async def test_an_update_moves_the_version_on_by_one_and_keeps_what_it_does_not_set(wiring: Wiring) -> None:
    things = wiring.db.things
    await things.insert_one({"_id": "t-1", "version": 1, "status": "active", "created_by": "P-1"})

    await update_versioned(things, "t-1", {"$set": {"status": "disabled"}}, 1, what="thing", where={"status": "active"})

    assert await things.find_one({"_id": "t-1"}) == {"_id": "t-1", "version": 2, "status": "disabled", "created_by": "P-1"}


async def test_an_update_whose_condition_no_longer_holds_is_stale_and_changes_nothing(wiring: Wiring) -> None:
    things = wiring.db.things
    await things.insert_one({"_id": "t-1", "version": 1, "status": "disabled"})

    with pytest.raises(Stale) as caught:
        await update_versioned(things, "t-1", {"$set": {"status": "held"}}, 1, what="thing", where={"status": "active"})
    with pytest.raises(Stale):
        await update_versioned(things, "t-1", {"$set": {"status": "held"}}, 0, what="thing")

    assert caught.value.current == 1
    assert await things.find_one({"_id": "t-1"}) == {"_id": "t-1", "version": 1, "status": "disabled"}


async def test_a_first_version_meeting_an_existing_record_is_stale_at_its_version(wiring: Wiring) -> None:
    things = wiring.db.things
    await insert_versioned(things, {"_id": "t-1", "version": 1, "by": "first"}, what="thing")
    await things.update_one({"_id": "t-1"}, {"$set": {"version": 2}})

    with pytest.raises(Stale) as caught:
        await insert_versioned(things, {"_id": "t-1", "version": 1, "by": "second"}, what="thing")

    assert (caught.value.current, caught.value.expected, caught.value.ident) == (2, 0, "t-1")
    assert (await things.find_one({"_id": "t-1"}))["by"] == "first"


async def test_a_duplicate_on_another_unique_index_is_not_a_version_conflict(wiring: Wiring) -> None:
    themes = wiring.db.themes
    await themes.create_indexes([IndexModel([("name", ASCENDING)], unique=True)])
    await insert_versioned(themes, {"_id": "th-1", "version": 1, "name": "Neglect"}, what="theme")

    with pytest.raises(DuplicateKeyError):
        await insert_versioned(themes, {"_id": "th-2", "version": 1, "name": "Neglect"}, what="theme")


async def test_inside_a_unit_of_work_a_stale_write_commits_nothing_and_no_event(wiring: Wiring) -> None:
    things = wiring.db.things
    await things.insert_one({"_id": "t-1", "version": 2})

    async def replace_from_a_stale_read(tx: Transaction) -> None:
        await wiring.db.log.insert_one({"_id": "written first"}, session=tx.session)
        await replace_versioned(things, "t-1", {"_id": "t-1", "version": 2}, 1, what="thing", session=tx.session)

    async def insert_over_an_existing_one(tx: Transaction) -> None:
        await wiring.db.log.insert_one({"_id": "written first"}, session=tx.session)
        await insert_versioned(things, {"_id": "t-1", "version": 1}, what="thing", session=tx.session)

    for work in (replace_from_a_stale_read, insert_over_an_existing_one):
        with pytest.raises(Stale) as caught:
            await wiring.uow.run(work)
        assert caught.value.current == 2

    assert await wiring.db.log.count_documents({}) == 0
    assert await wiring.db.outbox.count_documents({}) == 0
    assert await things.find_one({"_id": "t-1"}) == {"_id": "t-1", "version": 2}


async def test_a_replace_returning_from_the_record_as_read_does_not_read_it_again(wiring: Wiring) -> None:
    things = wiring.db.things
    await things.insert_one({"_id": "t-1", "version": 1, "name": "first", "team": "T-1"})
    # What the caller read says T-9: had the record been read again, T-1 would come back.
    as_read = {"_id": "t-1", "version": 1, "team": "T-9"}

    before = await replace_versioned_returning(
        things, "t-1", {"_id": "t-1", "version": 2, "name": "second", "team": "T-2"}, 1, what="thing", projection={"team": 1}, read=as_read
    )

    assert before == as_read
    assert await things.find_one({"_id": "t-1"}) == {"_id": "t-1", "version": 2, "name": "second", "team": "T-2"}


async def test_a_replace_returning_reads_the_record_when_what_was_read_is_another_version(wiring: Wiring) -> None:
    things = wiring.db.things
    await things.insert_one({"_id": "t-1", "version": 2, "team": "T-1"})

    before = await replace_versioned_returning(
        things, "t-1", {"_id": "t-1", "version": 3, "team": "T-2"}, 2, what="thing", projection={"team": 1},
        read={"_id": "t-1", "version": 1, "team": "T-9"},
    )

    assert before == {"_id": "t-1", "version": 2, "team": "T-1"}


async def test_a_replace_returning_from_a_read_the_record_has_moved_on_from_is_stale_and_changes_nothing(wiring: Wiring) -> None:
    things = wiring.db.things
    await things.insert_one({"_id": "t-1", "version": 3, "team": "theirs"})

    with pytest.raises(Stale) as caught:
        await replace_versioned_returning(
            things, "t-1", {"_id": "t-1", "version": 3, "team": "mine"}, 2, what="thing", projection={"team": 1},
            read={"_id": "t-1", "version": 2, "team": "as read"},
        )

    assert (caught.value.current, caught.value.expected) == (3, 2)
    assert await things.find_one({"_id": "t-1"}) == {"_id": "t-1", "version": 3, "team": "theirs"}


def test_snapshots_keep_what_a_read_projection_would_answer_and_forget_it_with_the_object() -> None:
    import gc

    kept = Snapshots({"team": 1}, version_field="revision")
    thing, other = Thing(), Thing()
    kept.keep(thing, {"_id": "t-1", "revision": 4, "team": "T-1", "notes": "long"})
    kept.keep(thing, {"_id": "t-1", "revision": 5, "team": "T-2", "notes": "long"})  # after a write
    whole = Snapshots(None)
    whole.keep(thing, {"_id": "t-1", "version": 4, "notes": "long"})

    assert kept.read(thing) == {"_id": "t-1", "revision": 5, "team": "T-2"}
    assert whole.read(thing) == {"_id": "t-1", "version": 4, "notes": "long"}
    assert kept.read(other) is None
    assert (len(kept), len(whole)) == (1, 1)
    del thing
    gc.collect()
    assert (len(kept), len(whole)) == (0, 0)


async def test_several_replaces_in_one_command_move_each_record_on_or_none_of_them(wiring: Wiring) -> None:
    things = wiring.db.things
    await things.insert_many([{"_id": f"t-{n}", "version": n, "name": "old"} for n in (1, 2, 3)])

    async def replace_all(tx: Transaction) -> None:
        for n in (1, 2):
            replace_versioned_at_end(tx, things, f"t-{n}", {"_id": f"t-{n}", "version": n + 1, "name": "new"}, n, what="thing")

    await wiring.uow.run(replace_all)
    assert await things.find().sort("_id").to_list() == [
        {"_id": "t-1", "version": 2, "name": "new"}, {"_id": "t-2", "version": 3, "name": "new"}, {"_id": "t-3", "version": 3, "name": "old"}]

    async def one_of_them_stale(tx: Transaction) -> None:
        # t-3 is at version 3, read at 2: the first is replaced in the command, then all is undone.
        replace_versioned_at_end(tx, things, "t-1", {"_id": "t-1", "version": 3, "name": "newer"}, 2, what="thing")
        replace_versioned_at_end(tx, things, "t-3", {"_id": "t-3", "version": 3, "name": "newer"}, 2, what="thing")

    with pytest.raises(Stale) as caught:
        await wiring.uow.run(one_of_them_stale)
    assert (caught.value.ident, caught.value.current, caught.value.expected) == ("t-3", 3, 2)
    assert [d["name"] for d in await things.find().sort("_id").to_list()] == ["new", "new", "old"]


async def test_many_first_versions_in_one_command_or_none_when_another_writer_took_an_id(wiring: Wiring) -> None:
    things = wiring.db.things

    async def insert(ids: list[str]) -> None:
        async def work(tx: Transaction) -> None:
            await insert_many_versioned(things, [{"_id": i, "version": 1, "by": "me"} for i in ids], what="thing", session=tx.session)

        await wiring.uow.run(work)

    await insert(["t-1", "t-2"])
    await insert([])  # nothing to write: no command
    await things.insert_one({"_id": "t-4", "version": 3, "by": "them"})

    with pytest.raises(Stale) as caught:
        await insert(["t-3", "t-4", "t-5"])

    assert (caught.value.current, caught.value.expected, caught.value.ident) == (3, 0, "t-4")
    assert [(d["_id"], d["by"]) for d in await things.find().sort("_id").to_list()] == [("t-1", "me"), ("t-2", "me"), ("t-4", "them")]


async def test_many_first_versions_meeting_a_duplicate_on_another_unique_index_is_not_a_version_conflict(wiring: Wiring) -> None:
    themes = wiring.db.themes
    await themes.create_indexes([IndexModel([("name", ASCENDING)], unique=True)])
    await themes.insert_one({"_id": "th-1", "version": 1, "name": "Neglect"})

    async def work(tx: Transaction) -> None:
        docs = [{"_id": "th-2", "version": 1, "name": "Contact"}, {"_id": "th-3", "version": 1, "name": "Neglect"}]
        await insert_many_versioned(themes, docs, what="theme", session=tx.session)

    with pytest.raises(BulkWriteError) as caught:  # what insert_many raises, unchanged
        await wiring.uow.run(work)
    assert caught.value.details["writeErrors"][0]["keyPattern"] == {"name": 1}
    assert await themes.count_documents({}) == 1


async def test_many_replaces_in_one_bulk_write_move_each_record_on_or_none_when_one_was_changed_meanwhile(wiring: Wiring) -> None:
    things = wiring.db.things
    await things.insert_many([{"_id": f"t-{n}", "version": n, "name": "old"} for n in (1, 2, 3)])

    async def replace(read_at: dict[str, int]) -> None:
        async def work(tx: Transaction) -> None:
            docs = [({"_id": i, "version": v + 1, "name": f"new from {v}"}, v) for i, v in read_at.items()]
            await replace_many_versioned(things, docs, what="thing", session=tx.session)

        await wiring.uow.run(work)

    await replace({"t-1": 1, "t-2": 2})
    await replace({})  # nothing to write: no command
    assert [(d["_id"], d["version"], d["name"]) for d in await things.find().sort("_id").to_list()] == [
        ("t-1", 2, "new from 1"), ("t-2", 3, "new from 2"), ("t-3", 3, "old")]

    # t-2 was read at 2 but is at 3 now: t-1 and t-3 are replaced in the command, then all is undone.
    with pytest.raises(Stale) as caught:
        await replace({"t-1": 2, "t-2": 2, "t-3": 3})
    assert (caught.value.ident, caught.value.current, caught.value.expected) == ("t-2", 3, 2)
    assert [(d["_id"], d["version"]) for d in await things.find().sort("_id").to_list()] == [("t-1", 2), ("t-2", 3), ("t-3", 3)]
