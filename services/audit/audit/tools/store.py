"""Audit tools in MongoDB: every version of every tool (never changed once written) and a head
per tool naming its latest version, whose version number guards concurrent additions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING, IndexModel
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError
from shared.keyset import page_by_id
from shared.mongo import Document, Indexes, Transaction
from shared.versioned import Stale

from .domain.definition import ToolDefinition
from .schemas import definition_json, parse_definition

TOOLS = "audit_tools"
TOOL_VERSIONS = "audit_tool_versions"

INDEXES = [
    Indexes(TOOL_VERSIONS, [IndexModel([("tool_id", ASCENDING), ("version", ASCENDING)], unique=True)]),
]


#: What a ``Stale`` of this store names: the tool's latest version is not the one the writer read
#: (``expected`` None: the writer meant to create the tool, which exists).
WHAT = "tool"


async def add_version(
    tx: Transaction, db: AsyncDatabase[Document], tool_id: str, definition: ToolDefinition, *, expected: int | None, by: str, at: datetime
) -> int:
    """Add the next version of a tool (the first when ``expected`` is None)."""
    head = await db[TOOLS].find_one({"_id": tool_id}, session=tx.session)
    current = head["version"] if head else None
    if current != expected:
        raise Stale(WHAT, current, expected, ident=tool_id)
    version = (current or 0) + 1
    summary = {"title": definition.title, "programme": definition.programme.value, "updated_at": at, "updated_by": by}
    try:
        if head is None:
            await db[TOOLS].insert_one({"_id": tool_id, "version": version, **summary, "created_at": at}, session=tx.session)
        else:
            result = await db[TOOLS].update_one(
                {"_id": tool_id, "version": current}, {"$set": {"version": version, **summary}}, session=tx.session
            )
            if result.matched_count != 1:
                raise Stale(WHAT, None, expected, ident=tool_id)
        await db[TOOL_VERSIONS].insert_one(
            {
                "_id": f"{tool_id}@{version}", "tool_id": tool_id, "version": version,
                "definition": definition_json(definition), "created_by": by, "created_at": at,
            },
            session=tx.session,
        )
    except DuplicateKeyError:
        raise Stale(WHAT, None, expected, ident=tool_id) from None
    return version


async def latest_version(db: AsyncDatabase[Document], tool_id: str, *, tx: Transaction | None = None) -> int | None:
    head = await db[TOOLS].find_one({"_id": tool_id}, {"version": 1}, session=tx.session if tx else None)
    return head["version"] if head else None


async def get_version(db: AsyncDatabase[Document], tool_id: str, version: int, *, tx: Transaction | None = None) -> Document | None:
    return await db[TOOL_VERSIONS].find_one({"tool_id": tool_id, "version": version}, session=tx.session if tx else None)


#: Tool versions never change once written, so a process keeps the definitions it has read
#: (the monthly allocation reads the same one for every audit it creates).
_DEFINITIONS: dict[tuple[str, str, int], ToolDefinition] = {}


async def version_definition(db: AsyncDatabase[Document], tool_id: str, version: int, *, tx: Transaction | None = None) -> ToolDefinition | None:
    key = (db.name, tool_id, version)
    if key not in _DEFINITIONS:
        doc = await get_version(db, tool_id, version, tx=tx)
        if doc is None:
            return None
        if len(_DEFINITIONS) > 256:
            _DEFINITIONS.clear()
        _DEFINITIONS[key] = definition_of(doc)
    return _DEFINITIONS[key]


def definition_of(doc: Document) -> ToolDefinition:
    return parse_definition(doc["definition"])


async def list_tools(db: AsyncDatabase[Document], *, after: str | None, limit: int) -> list[Document]:
    return await page_by_id(db[TOOLS], {}, after=after or None, limit=limit)


async def list_versions(db: AsyncDatabase[Document], tool_id: str, *, before: int | None, limit: int) -> list[Document]:
    query: dict[str, Any] = {"tool_id": tool_id}
    if before is not None:
        query["version"] = {"$lt": before}
    return await db[TOOL_VERSIONS].find(query).sort("version", DESCENDING).limit(limit).to_list()
