"""Notify's own copy of who people are, projected from the directory's events: the work tray
and email need each person's name, email, team and line manager.

Directory events carry a version per person; an older or repeated version never overwrites a
newer one, whatever order the broker delivers them in.
"""

from __future__ import annotations

from typing import Any

from pymongo import ASCENDING, IndexModel
from pymongo.asynchronous.database import AsyncDatabase
from shared.consumer import ReceivedEvent, Subscription
from shared.directory_readers import PersonRecord, person_changed
from shared.directory_sync import applied_type, projected, record_of
from shared.mongo import Document, Indexes

RECIPIENTS = "recipients"


class PersonChanged(PersonRecord):
    """What notify reads of ``directory.person.changed.v1`` (tolerant of fields it does not use)."""

    name: str
    email: str
    roles: list[str]
    team_id: str | None = None
    line_manager_id: str | None = None
    active: bool = True


PERSON_CHANGED = person_changed(PersonChanged)
#: What notify reports of its copy (the directory sync signal).
APPLIED = applied_type("notify")

INDEXES = [Indexes(RECIPIENTS, [IndexModel([("team_id", ASCENDING)]), IndexModel([("roles", ASCENDING)])])]


def subscriptions(db: AsyncDatabase[Document]) -> list[Subscription]:
    def recipient(event: ReceivedEvent) -> tuple[str, int, dict[str, Any]]:
        # Every field of ``PersonChanged`` is JSON-native: its JSON dump is its Python one.
        return record_of(event.data, "person_id", stamped=event)

    return [projected(db, PERSON_CHANGED, RECIPIENTS, recipient, applied=APPLIED, kind="person", also={"$inc": {"changes_applied": 1}})]
