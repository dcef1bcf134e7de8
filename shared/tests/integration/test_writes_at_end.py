"""Writes a unit of work leaves for its end (``Transaction.insert_at_end``, ``replace_at_end``,
``shared.versioned.replace_versioned_at_end``), against real MongoDB: they and the events' outbox
documents reach the database in one command, inside the transaction; a guarded one that finds its
record moved fails the whole transaction with ``Stale``; a write conflict re-runs the work as it
does for any other write; a duplicate is the ``DuplicateKeyError`` a lone insert gives."""

from __future__ import annotations

import asyncio
import json

import pytest
from pymongo.errors import DuplicateKeyError
from shared.documents import OUTBOX
from shared.mongo import Transaction
from shared.versioned import Stale, replace_versioned_at_end

from devstack.testing import CommandLog, eventually
from devstack.wiring import THING_HAPPENED, ThingHappened, Wiring

#: Listening from before any client is made (the ``wiring`` fixture's too): PyMongo tells a
#: listener only of clients made after it.
LOG = CommandLog.get()


async def test_the_writes_left_for_the_end_and_the_events_go_in_one_command_of_the_transaction(wiring: Wiring) -> None:
    things, log = wiring.db.things, LOG
    await things.insert_one({"_id": "t-1", "version": 1, "name": "first"})
    seen_by_the_work: list[object] = []

    async def work(tx: Transaction) -> None:
        replace_versioned_at_end(tx, things, "t-1", {"_id": "t-1", "version": 2, "name": "second"}, 1, what="thing")
        tx.insert_at_end(wiring.db.history, {"_id": "h-1", "thing": "t-1"})
        tx.record(THING_HAPPENED, ThingHappened(thing_id=1), subject="thing/t-1")
        # Left for the end: the work itself does not see them.
        seen_by_the_work.append(await things.find_one({"_id": "t-1"}, session=tx.session))
        seen_by_the_work.append(await wiring.db.history.find_one({"_id": "h-1"}, session=tx.session))

    with log.recording() as commands:
        await wiring.uow.run(work)

    assert log.writes(commands) == [("bulkWrite", ("things", "history", OUTBOX))]
    assert log.in_transactions(commands)[-1] == "commitTransaction"
    assert seen_by_the_work == [{"_id": "t-1", "version": 1, "name": "first"}, None]
    assert await things.find_one({"_id": "t-1"}) == {"_id": "t-1", "version": 2, "name": "second"}
    assert await wiring.db.history.find_one({"_id": "h-1"}) == {"_id": "h-1", "thing": "t-1"}
    [event] = await wiring.db[OUTBOX].find().to_list()
    envelope = json.loads(event["envelope"])
    assert (event["routing_key"], envelope["subject"], envelope["data"]["thing_id"]) == (THING_HAPPENED.routing_key, "thing/t-1", 1)


async def test_with_nothing_left_for_the_end_the_events_are_one_insert_as_before(wiring: Wiring) -> None:
    log = LOG

    async def work(tx: Transaction) -> None:
        await wiring.db.things.insert_one({"_id": "t-1", "version": 1}, session=tx.session)
        tx.record(THING_HAPPENED, ThingHappened(thing_id=1), subject="thing/t-1")

    with log.recording() as commands:
        await wiring.uow.run(work)

    assert log.to(commands, "things", OUTBOX) == ["insert", "insert"]


async def test_a_guarded_replace_that_finds_its_record_moved_fails_the_transaction_with_stale(wiring: Wiring) -> None:
    things = wiring.db.things
    await things.insert_one({"_id": "t-1", "version": 3, "name": "theirs"})

    async def work(tx: Transaction) -> None:
        await wiring.db.log.insert_one({"_id": "written at once"}, session=tx.session)
        tx.insert_at_end(wiring.db.history, {"_id": "h-1"})
        replace_versioned_at_end(tx, things, "t-1", {"_id": "t-1", "version": 3, "name": "mine"}, 2, what="thing")
        tx.record(THING_HAPPENED, ThingHappened(thing_id=1), subject="thing/t-1")

    with pytest.raises(Stale) as caught:
        await wiring.uow.run(work)

    assert (caught.value.what, caught.value.current, caught.value.expected, caught.value.ident) == ("thing", 3, 2, "t-1")
    assert await things.find_one({"_id": "t-1"}) == {"_id": "t-1", "version": 3, "name": "theirs"}
    for collection in ("log", "history", OUTBOX):  # neither what was written at once nor what was left
        assert await wiring.db[collection].count_documents({}) == 0, collection


async def test_a_write_that_fails_because_the_guarded_record_moved_is_reported_as_stale(wiring: Wiring) -> None:
    """The history entry for version 3 is already there because someone else made version 3:
    the answer is that the record moved (``Stale``), not the duplicate it caused."""
    things, history = wiring.db.things, wiring.db.history
    await history.create_index([("thing", 1), ("version", 1)], unique=True)
    await things.insert_one({"_id": "t-1", "version": 3})
    await history.insert_one({"_id": "theirs", "thing": "t-1", "version": 3})

    async def work(tx: Transaction) -> None:
        replace_versioned_at_end(tx, things, "t-1", {"_id": "t-1", "version": 3}, 2, what="thing")
        tx.insert_at_end(history, {"_id": "mine", "thing": "t-1", "version": 3})

    with pytest.raises(Stale) as caught:
        await wiring.uow.run(work)

    assert (caught.value.current, caught.value.expected) == (3, 2)
    assert await history.find().to_list() == [{"_id": "theirs", "thing": "t-1", "version": 3}]


async def test_a_guarded_replace_of_a_record_that_is_not_there_is_stale_with_no_current_version(wiring: Wiring) -> None:
    async def work(tx: Transaction) -> None:
        replace_versioned_at_end(tx, wiring.db.things, "gone", {"_id": "gone", "version": 2}, 1, what="thing")

    with pytest.raises(Stale) as caught:
        await wiring.uow.run(work)

    assert (caught.value.current, caught.value.expected) == (None, 1)
    assert await wiring.db.things.count_documents({}) == 0


async def test_a_write_conflict_in_the_command_re_runs_the_work_until_it_goes_through(wiring: Wiring) -> None:
    """The driver wraps a failed ``bulkWrite`` in an error without the conflict's
    ``TransientTransactionError`` label; the unit of work must still see it, and run again."""
    things = wiring.db.things
    await things.insert_one({"_id": "t-1", "n": 0})
    attempts = 0

    async def work(tx: Transaction) -> None:
        nonlocal attempts
        attempts += 1
        tx.insert_at_end(wiring.db.history, {"_id": f"attempt-{attempts}"})
        tx.replace_at_end(things, {"_id": "t-1"}, {"_id": "t-1", "n": 2}, if_unmatched=_never)

    async with wiring.client.start_session() as other:
        await other.start_transaction()
        # Another transaction holds the record: the work's command meets a write conflict.
        await things.replace_one({"_id": "t-1"}, {"_id": "t-1", "n": 1}, session=other)
        running = asyncio.create_task(wiring.uow.run(work))

        async def tried_again() -> bool:
            return attempts >= 2 and not running.done()

        await eventually(tried_again, timeout=20, interval=0.01, message="the work run again after the conflict")
        await other.commit_transaction()
    await asyncio.wait_for(running, timeout=20)

    assert await things.find_one({"_id": "t-1"}) == {"_id": "t-1", "n": 2}
    # Only the attempt that went through left its write.
    assert await wiring.db.history.find().to_list() == [{"_id": f"attempt-{attempts}"}]


async def test_a_duplicate_left_for_the_end_is_the_duplicate_key_error_of_a_lone_insert(wiring: Wiring) -> None:
    await wiring.db.history.insert_one({"_id": "h-1"})

    async def work(tx: Transaction) -> None:
        tx.insert_at_end(wiring.db.things, {"_id": "t-1"})
        tx.insert_at_end(wiring.db.history, {"_id": "h-1"})

    with pytest.raises(DuplicateKeyError):
        await wiring.uow.run(work)

    assert await wiring.db.things.count_documents({}) == 0


async def _never() -> BaseException:
    raise AssertionError("the record is there: the replace matches it")


class _Taken(Exception):
    """What the inserts below ask for when their key is taken."""


@pytest.mark.parametrize("alone", [True, False], ids=["alone", "with-other-writes"])
async def test_an_insert_left_for_the_end_whose_key_is_taken_raises_what_it_asked_for_and_keeps_nothing(wiring: Wiring, alone: bool) -> None:
    await wiring.db.markers.insert_one({"_id": "m-1"})

    async def work(tx: Transaction) -> None:
        tx.insert_at_end(wiring.db.markers, {"_id": "m-1"}, if_duplicate=_Taken)
        if not alone:
            tx.insert_at_end(wiring.db.history, {"_id": "h-1"})
            tx.record(THING_HAPPENED, ThingHappened(thing_id=1), subject="thing/t-1")

    with LOG.recording() as commands:
        with pytest.raises(_Taken):
            await wiring.uow.run(work)
    assert LOG.writes(commands) == ([("insert", ("markers",))] if alone else [("bulkWrite", ("markers", "history", OUTBOX))])
    for collection in ("history", OUTBOX):
        assert await wiring.db[collection].count_documents({}) == 0


async def test_a_taken_key_on_another_insert_than_the_one_that_asked_is_a_duplicate_key_error(wiring: Wiring) -> None:
    await wiring.db.history.insert_one({"_id": "h-1"})

    async def work(tx: Transaction) -> None:
        tx.insert_at_end(wiring.db.markers, {"_id": "m-1"}, if_duplicate=_Taken)
        tx.insert_at_end(wiring.db.history, {"_id": "h-1"})

    with pytest.raises(DuplicateKeyError):
        await wiring.uow.run(work)
    assert await wiring.db.markers.count_documents({}) == 0


async def test_flush_writes_what_was_left_so_that_the_rest_of_the_work_reads_it(wiring: Wiring) -> None:
    async def work(tx: Transaction) -> tuple[object, object]:
        tx.insert_at_end(wiring.db.history, {"_id": "h-1"})
        tx.insert_at_end(wiring.db.history, {"_id": "h-2"})
        await tx.flush()
        await tx.flush()  # nothing left: no command
        return await wiring.db.history.count_documents({}, session=tx.session), tx.at_end

    with LOG.recording() as commands:
        seen, left = await wiring.uow.run(work)
    assert (seen, left) == (2, [])
    assert LOG.writes(commands) == [("bulkWrite", ("history",))]
