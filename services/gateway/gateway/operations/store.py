"""The record of every action on a dead letter (who, when, why, and for a discarded one, the
message itself: nothing is lost)."""

from __future__ import annotations

from typing import Any

from pymongo import DESCENDING, IndexModel
from pymongo.asynchronous.database import AsyncDatabase
from shared.mongo import Document, Indexes

DEAD_LETTER_ACTIONS = "dead_letter_actions"

INDEXES = [Indexes(DEAD_LETTER_ACTIONS, [IndexModel([("queue", 1), ("at", DESCENDING), ("_id", DESCENDING)]), IndexModel([("at", DESCENDING), ("_id", DESCENDING)])])]


async def record(db: AsyncDatabase[Document], action: dict[str, Any]) -> None:
    await db[DEAD_LETTER_ACTIONS].insert_one(action)


async def actions(db: AsyncDatabase[Document], *, queue: str | None, limit: int) -> list[Document]:
    query = {"queue": queue} if queue else {}
    return await db[DEAD_LETTER_ACTIONS].find(query, {"body": 0}).sort([("at", DESCENDING), ("_id", DESCENDING)]).limit(limit).to_list()
