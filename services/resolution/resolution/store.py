"""Resolution forms and themes in MongoDB: load, version-guarded save, history, indexed lists.

A save replaces the form only if it is still at the version the caller read (filter
``{_id, version}``); otherwise nothing is written and it raises ``shared.versioned.Stale`` with
the current version (the caller gets 412). Every change also appends its history entries (with the text of every section save),
in the same transaction, so nothing anyone wrote is ever lost, and moves the reports' roll-ups
(``rollups``) by what it changed, in the same transaction too.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pymongo import ASCENDING, IndexModel
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError
from shared.mongo import Document, Indexes
from shared.versioned import replace_versioned, replace_versioned_returning

from . import rollups
from .documents import closing_reason_from_document, form_document, form_from_document, theme_document, theme_from_document
from .domain import FormStatus, ResolutionForm, RuleConflict, Theme, UnknownItem
from .domain.closing_reasons import ClosingReason
from .domain.events import HistoryEntry

FORMS = "forms"
FORM_HISTORY = "form_history"
THEMES = "themes"
THEME_HISTORY = "theme_history"
CLOSING_REASONS = "closing_reasons"
CLOSING_REASON_HISTORY = "closing_reason_history"

Session = AsyncClientSession | None

INDEXES = [
    Indexes(
        FORMS,
        [
            IndexModel([("participants", ASCENDING), ("_id", ASCENDING)]),
            IndexModel([("case_id", ASCENDING), ("_id", ASCENDING)]),
            IndexModel([("status", ASCENDING), ("_id", ASCENDING)]),
            # Reports: forms raised in a period; impact of those resolved in a period.
            IndexModel([("raised_at", ASCENDING), ("_id", ASCENDING)]),
            IndexModel([("status", ASCENDING), ("finished_at", ASCENDING), ("_id", ASCENDING)]),
            IndexModel([("resolved_key", ASCENDING)]),
        ],
    ),
    Indexes(
        FORM_HISTORY,
        [
            IndexModel([("form_id", ASCENDING), ("version", ASCENDING)], unique=True),
            IndexModel([("form_id", ASCENDING), ("part", ASCENDING), ("stage", ASCENDING), ("version", ASCENDING)]),
        ],
    ),
    Indexes(THEMES, [IndexModel([("key", ASCENDING)], unique=True), IndexModel([("active", ASCENDING), ("_id", ASCENDING)])]),
    Indexes(THEME_HISTORY, [IndexModel([("theme_id", ASCENDING), ("version", ASCENDING)], unique=True)]),
    Indexes(CLOSING_REASONS, [IndexModel([("key", ASCENDING)], unique=True), IndexModel([("active", ASCENDING), ("_id", ASCENDING)])]),
    Indexes(CLOSING_REASON_HISTORY, [IndexModel([("theme_id", ASCENDING), ("version", ASCENDING)], unique=True)]),
    # Reports by how forms ended.
    Indexes(FORMS, [IndexModel([("closing_reason_id", ASCENDING), ("finished_at", ASCENDING)])]),
    *rollups.INDEXES,
]


# --- forms -------------------------------------------------------------------------------------


async def load_form(db: AsyncDatabase[Document], form_id: str, session: Session = None) -> ResolutionForm:
    doc = await db[FORMS].find_one({"_id": form_id}, session=session)
    if doc is None:
        raise UnknownItem(f"There is no resolution form {form_id!r}.")
    return form_from_document(doc)


def resolved_key(finished_at: datetime, form_id: str) -> str:
    """The impact report's order and cursor for a resolved form: when it was resolved (UTC, to the
    millisecond the database keeps), then its id, as one string so one index serves both."""
    at = finished_at.astimezone(UTC) if finished_at.tzinfo else finished_at.replace(tzinfo=UTC)
    return f"{at.strftime('%Y-%m-%dT%H:%M:%S')}.{at.microsecond // 1000:03d}Z|{form_id}"


def stored_form(form: ResolutionForm) -> Document:
    """The form's document as the store writes it: ``form_document`` and, once resolved, its
    ``resolved_key`` (the impact report's index)."""
    doc = form_document(form)
    if doc["status"] == FormStatus.RESOLVED.value and doc["finished_at"] is not None:
        doc["resolved_key"] = resolved_key(doc["finished_at"], doc["_id"])
    return doc


async def insert_form(db: AsyncDatabase[Document], form: ResolutionForm, session: Session) -> None:
    doc = stored_form(form)
    await db[FORMS].insert_one(doc, session=session)
    await rollups.apply(db, None, doc, session)
    await _write_history(db, form, session)


async def save_form(db: AsyncDatabase[Document], form: ResolutionForm, *, expected_version: int, session: Session) -> None:
    """Replace the form if it is still at ``expected_version``; ``Stale`` (nothing written) if not.

    The guarded replace gives the form as it was (only what the report roll-ups read), so the
    roll-ups move from it to the new one in the same transaction."""
    if form.version == expected_version:
        return  # nothing changed
    doc = stored_form(form)
    before = await replace_versioned_returning(
        db[FORMS], form.id, doc, expected_version, what="resolution form", projection=rollups.FIELDS, session=session
    )
    await rollups.apply(db, before, doc, session)
    await _write_history(db, form, session)


async def _write_history(db: AsyncDatabase[Document], form: ResolutionForm, session: Session) -> None:
    entries = form.history
    form.history = []
    if entries:
        await db[FORM_HISTORY].insert_many([_history_doc(form.id, e) for e in entries], session=session)


def _history_doc(form_id: str, entry: HistoryEntry) -> Document:
    return {
        "form_id": form_id, "version": entry.version, "action": entry.action, "part": entry.part, "by": entry.by, "at": entry.at,
        "stage": entry.stage.value if entry.stage else None, "details": entry.details,
    }


async def list_forms(
    db: AsyncDatabase[Document], *, participant: str | None, case_id: str | None, status: str | None, after: str | None, limit: int
) -> list[Document]:
    """Forms in id order (ids grow with time), filtered; each filter is served by an index."""
    query: dict[str, Any] = {}
    if participant is not None:
        query["participants"] = participant
    if case_id is not None:
        query["case_id"] = case_id
    if status is not None:
        query["status"] = status
    if after is not None:
        query["_id"] = {"$gt": after}
    return await db[FORMS].find(query).sort("_id", ASCENDING).limit(limit).to_list()


async def history(
    db: AsyncDatabase[Document], form_id: str, *, part: str | None = None, stage: str | None = None, after_version: int = 0, limit: int = 50
) -> list[Document]:
    query: dict[str, Any] = {"form_id": form_id, "version": {"$gt": after_version}}
    if part is not None:
        query["part"] = part
        query["stage"] = stage
    return await db[FORM_HISTORY].find(query).sort("version", ASCENDING).limit(limit).to_list()


# --- themes ------------------------------------------------------------------------------------


async def load_theme(db: AsyncDatabase[Document], theme_id: str, session: Session = None) -> Theme:
    doc = await db[THEMES].find_one({"_id": theme_id}, session=session)
    if doc is None:
        raise UnknownItem(f"There is no theme {theme_id!r}.")
    return theme_from_document(doc)


async def themes_by_id(db: AsyncDatabase[Document], theme_ids: list[str], session: Session = None) -> dict[str, Theme]:
    docs = await db[THEMES].find({"_id": {"$in": list(dict.fromkeys(theme_ids))}}, session=session).to_list()
    return {d["_id"]: theme_from_document(d) for d in docs}


async def insert_theme(db: AsyncDatabase[Document], theme: Theme, session: Session) -> None:
    try:
        await db[THEMES].insert_one(theme_document(theme), session=session)
    except DuplicateKeyError:
        raise RuleConflict(f"A theme called {theme.name!r} already exists.", slug="theme-exists") from None
    await _theme_history(db, theme, session)


async def save_theme(db: AsyncDatabase[Document], theme: Theme, *, expected_version: int, session: Session) -> None:
    if theme.version == expected_version:
        return
    try:
        await replace_versioned(db[THEMES], theme.id, theme_document(theme), expected_version, what="theme", session=session)
    except DuplicateKeyError:
        raise RuleConflict(f"A theme called {theme.name!r} already exists.", slug="theme-exists") from None
    await _theme_history(db, theme, session)


async def _theme_history(db: AsyncDatabase[Document], theme: Theme, session: Session, collection: str = THEME_HISTORY) -> None:
    await db[collection].insert_one(
        {"theme_id": theme.id, "version": theme.version, "name": theme.name, "description": theme.description, "active": theme.active,
         "by": theme.updated_by, "at": theme.updated_at},
        session=session,
    )


async def list_themes(db: AsyncDatabase[Document], *, include_retired: bool, after: str | None, limit: int) -> list[Document]:
    query: dict[str, Any] = {} if include_retired else {"active": True}
    if after is not None:
        query["_id"] = {"$gt": after}
    return await db[THEMES].find(query).sort("_id", ASCENDING).limit(limit).to_list()



# --- closing reasons: the same list mechanics as themes, in their own collections ---------------


async def load_closing_reason(db: AsyncDatabase[Document], reason_id: str, session: Session = None) -> ClosingReason:
    doc = await db[CLOSING_REASONS].find_one({"_id": reason_id}, session=session)
    if doc is None:
        raise UnknownItem(f"There is no closing reason {reason_id!r}: choose one from the list of closing reasons.")
    return closing_reason_from_document(doc)


async def insert_closing_reason(db: AsyncDatabase[Document], reason: ClosingReason, session: Session) -> None:
    try:
        await db[CLOSING_REASONS].insert_one(theme_document(reason), session=session)
    except DuplicateKeyError:
        raise RuleConflict(f"A closing reason called {reason.name!r} already exists.", slug="closing-reason-exists") from None
    await _theme_history(db, reason, session, CLOSING_REASON_HISTORY)


async def save_closing_reason(db: AsyncDatabase[Document], reason: ClosingReason, *, expected_version: int, session: Session) -> None:
    if reason.version == expected_version:
        return
    try:
        await replace_versioned(db[CLOSING_REASONS], reason.id, theme_document(reason), expected_version, what="closing reason", session=session)
    except DuplicateKeyError:
        raise RuleConflict(f"A closing reason called {reason.name!r} already exists.", slug="closing-reason-exists") from None
    await _theme_history(db, reason, session, CLOSING_REASON_HISTORY)


async def list_closing_reasons(db: AsyncDatabase[Document], *, include_retired: bool, after: str | None, limit: int) -> list[Document]:
    query: dict[str, Any] = {} if include_retired else {"active": True}
    if after is not None:
        query["_id"] = {"$gt": after}
    return await db[CLOSING_REASONS].find(query).sort("_id", ASCENDING).limit(limit).to_list()


async def closing_reasons_by_id(db: AsyncDatabase[Document], reason_ids: list[str], session: Session = None) -> dict[str, ClosingReason]:
    docs = await db[CLOSING_REASONS].find({"_id": {"$in": list(dict.fromkeys(reason_ids))}}, session=session).to_list()
    return {d["_id"]: closing_reason_from_document(d) for d in docs}
