"""Audit's stores keep an aggregate under one field of its document and save it at its next version
(``audit.common.saving``), against real MongoDB: a save moves the record on; a save from a stale
read changes nothing, raises ``Stale`` and leaves the aggregate at the version it was read at."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from audit.common.saving import Embedded, save_next_version
from shared.documents import Document
from shared.versioned import Stale

from devstack.wiring import Wiring, wiring  # noqa: F401  (fixture)


@dataclass
class Thing:
    id: str
    name: str
    version: int = 0
    events: list[str] = field(default_factory=list)


THINGS = Embedded(Thing, "thing")


def to_document(thing: Thing) -> Document:
    return {"_id": thing.id, "version": thing.version, THINGS.key: THINGS.dumped(thing)}


async def test_a_save_moves_the_record_to_its_next_version_without_the_events_it_recorded(wiring: Wiring) -> None:  # noqa: F811
    thing = Thing("t-1", "first", version=1)
    await wiring.db.things.insert_one(to_document(thing))

    thing.name, thing.events = "second", ["renamed"]
    await save_next_version(wiring.db.things, thing, to_document, what="thing", session=None)

    stored = await wiring.db.things.find_one({"_id": "t-1"})
    assert stored is not None and stored["version"] == 2 and "events" not in stored["thing"]
    assert thing.version == 2 and THINGS.loaded(stored) == Thing("t-1", "second", version=2)


async def test_a_save_from_a_stale_read_changes_nothing_and_keeps_the_version_read(wiring: Wiring) -> None:  # noqa: F811
    await wiring.db.things.insert_one(to_document(Thing("t-1", "theirs", version=3)))
    mine = Thing("t-1", "mine", version=2)

    with pytest.raises(Stale) as caught:
        await save_next_version(wiring.db.things, mine, to_document, what="thing", session=None)

    assert (caught.value.current, caught.value.expected, mine.version) == (3, 2, 2)
    stored = await wiring.db.things.find_one({"_id": "t-1"})
    assert stored is not None and THINGS.loaded(stored).name == "theirs"
