"""Audit tools in MongoDB: every version of every tool (never changed once written) and a head
per tool naming its latest version, whose version number guards concurrent additions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING, IndexModel
from pymongo.asynchronous.database import AsyncDatabase
from shared.keyset import page_by_id
from shared.mongo import Document, Indexes, Transaction
from shared.versioned import Stale, current_version, insert_versioned, update_versioned

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
    """Add the next version of a tool (the first when ``expected`` is None): the tool's head moves
    from ``expected`` to the new version as any versioned record does, else ``Stale`` and nothing
    is written."""
    current = await current_version(db[TOOLS], tool_id, session=tx.session)
    if current != expected:
        raise Stale(WHAT, current, expected, ident=tool_id)
    version = (current or 0) + 1
    summary = {"title": definition.title, "programme": definition.programme.value, "updated_at": at, "updated_by": by}
    if current is None:
        try:
            await insert_versioned(db[TOOLS], {"_id": tool_id, "version": version, **summary, "created_at": at}, what=WHAT, session=tx.session)
        except Stale as exc:  # another writer created the tool meanwhile: this one named no version of it
            raise Stale(WHAT, exc.current, None, ident=tool_id) from None
    else:
        await update_versioned(db[TOOLS], tool_id, {"$set": summary}, current, what=WHAT, session=tx.session)
    await db[TOOL_VERSIONS].insert_one(
        {
            "_id": f"{tool_id}@{version}", "tool_id": tool_id, "version": version,
            "definition": definition_json(definition), "created_by": by, "created_at": at,
        },
        session=tx.session,
    )
    return version


async def latest_version(db: AsyncDatabase[Document], tool_id: str, *, tx: Transaction | None = None) -> int | None:
    return await current_version(db[TOOLS], tool_id, session=tx.session if tx else None)


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
