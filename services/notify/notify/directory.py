"""Notify's own copy of who people are, projected from the directory's events: the work tray
and email need each person's name, email, team and line manager.

Directory events carry a version per person; an older or repeated version never overwrites a
newer one, whatever order the broker delivers them in.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict
from pymongo import ASCENDING, IndexModel
from pymongo.asynchronous.database import AsyncDatabase
from shared.consumer import ReceivedEvent, Subscription
from shared.events import EventType
from shared.mongo import Document, Indexes, Transaction

RECIPIENTS = "recipients"


class PersonChanged(BaseModel):
    """What notify reads of ``directory.person.changed.v1`` (tolerant of fields it does not use)."""

    model_config = ConfigDict(extra="ignore")

    person_id: str
    version: int
    name: str
    email: str
    roles: list[str]
    team_id: str | None = None
    line_manager_id: str | None = None
    active: bool = True


PERSON_CHANGED = EventType("directory.person.changed", 1, PersonChanged, "A member of staff was added or changed.", "gateway")

INDEXES = [Indexes(RECIPIENTS, [IndexModel([("team_id", ASCENDING)]), IndexModel([("roles", ASCENDING)])])]


def subscriptions(db: AsyncDatabase[Document]) -> list[Subscription]:
    async def project_person(event: ReceivedEvent, tx: Transaction) -> None:
        person: PersonChanged = event.data
        recipients = db[RECIPIENTS]
        current = await recipients.find_one({"_id": person.person_id}, {"version": 1}, session=tx.session)
        if current is not None and current["version"] >= person.version:
            return  # an older state arriving late
        fields = person.model_dump(exclude={"person_id"})
        await recipients.update_one(
            {"_id": person.person_id},
            {"$set": {**fields, "event_id": event.id, "updated_at": event.envelope.time}, "$inc": {"changes_applied": 1}},
            upsert=True,
            session=tx.session,
        )

    return [Subscription(PERSON_CHANGED, project_person)]
