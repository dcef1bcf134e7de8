"""Resolution forms and themes in MongoDB: load, version-guarded save, history, indexed lists.

A save replaces the form only if it is still at the version the caller read (filter
``{_id, version}``); otherwise nothing is written and it raises ``shared.versioned.Stale`` with
the current version (the caller gets 412). Every change also appends its history entries (with the text of every section save),
in the same transaction, so nothing anyone wrote is ever lost, and moves the reports' roll-ups
(``rollups``) by what it changed, in the same transaction too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic

from pymongo import ASCENDING, IndexModel
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError
from shared.keyset import page_by_id
from shared.mongo import Document, Indexes, Transaction
from shared.versioned import Snapshots, as_it_was, replace_versioned, replace_versioned_at_end

from . import rollups
from .documents import (
    Listed,
    closing_reason_from_document,
    form_document,
    form_from_document,
    theme_document,
    theme_from_document,
)
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


#: Each form's roll-up fields as loaded or last written: the next save's "before", not read again.
SNAPSHOTS = Snapshots(rollups.FIELDS)


async def load_form(db: AsyncDatabase[Document], form_id: str, session: Session = None) -> ResolutionForm:
    doc = await db[FORMS].find_one({"_id": form_id}, session=session)
    if doc is None:
        raise UnknownItem(f"There is no resolution form {form_id!r}.")
    form = form_from_document(doc)
    SNAPSHOTS.keep(form, doc)
    return form


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


def insert_form(db: AsyncDatabase[Document], form: ResolutionForm, tx: Transaction) -> None:
    """Insert the new form, its roll-up change and its history when ``tx``'s work is done (one
    command with the events: ``Transaction.insert_at_end``)."""
    doc = stored_form(form)
    tx.insert_at_end(db[FORMS], doc)
    SNAPSHOTS.keep(form, doc)
    rollups.apply_at_end(db, None, doc, tx)
    _write_history(db, form, tx)


async def save_form(db: AsyncDatabase[Document], form: ResolutionForm, *, expected_version: int, tx: Transaction) -> None:
    """Replace the form if it is still at ``expected_version``; ``Stale`` (nothing written) if not.

    The roll-ups move from the form as it was (only what they read: as loaded, ``SNAPSHOTS``, or
    read now) to the new one. The guarded replace, the roll-up change and the history are written
    when ``tx``'s work is done, in one command with its events; a form that moved meanwhile makes
    the transaction fail with ``Stale``."""
    if form.version == expected_version:
        return  # nothing changed
    doc = stored_form(form)
    before = await as_it_was(
        db[FORMS], form.id, expected_version, what="resolution form", projection=rollups.FIELDS, session=tx.session,
        read=SNAPSHOTS.read(form),
    )
    replace_versioned_at_end(tx, db[FORMS], form.id, doc, expected_version, what="resolution form")
    SNAPSHOTS.keep(form, doc)
    rollups.apply_at_end(db, before, doc, tx)
    _write_history(db, form, tx)


def _write_history(db: AsyncDatabase[Document], form: ResolutionForm, tx: Transaction) -> None:
    entries = form.history
    form.history = []
    for entry in entries:
        tx.insert_at_end(db[FORM_HISTORY], _history_doc(form.id, entry))


def _history_doc(form_id: str, entry: HistoryEntry) -> Document:
    return {
        "form_id": form_id, "version": entry.version, "action": entry.action, "part": entry.part, "by": entry.by, "at": entry.at,
        "stage": entry.stage.value if entry.stage else None, "details": entry.details,
    }


async def list_forms(
    db: AsyncDatabase[Document], *, participant: str | None, case_id: str | None, status: str | None, after: str | None, limit: int
) -> list[Document]:
    """Forms in id order (ids grow with time), filtered; each filter is served by an index."""
    return await page_by_id(db[FORMS], {"participants": participant, "case_id": case_id, "status": status}, after=after, limit=limit)


async def history(
    db: AsyncDatabase[Document], form_id: str, *, part: str | None = None, stage: str | None = None, after_version: int = 0, limit: int = 50
) -> list[Document]:
    query: dict[str, Any] = {"form_id": form_id, "version": {"$gt": after_version}}
    if part is not None:
        query["part"] = part
        query["stage"] = stage
    return await db[FORM_HISTORY].find(query).sort("version", ASCENDING).limit(limit).to_list()


# --- themes and closing reasons: one list mechanics, each list in its own collections ------------


@dataclass(frozen=True)
class ManagedList(Generic[Listed]):
    """A managed list kept by the theme rules (themes, closing reasons): its items, in
    ``collection`` (a unique ``key``: no two items of one name), and every version of each, in
    ``history``."""

    kind: type[Listed]
    collection: str
    history: str
    from_document: Callable[[Document], Listed]
    #: The problem type of a name already taken (``domain.errors.PROBLEM_TITLES`` titles it).
    name_taken_slug: str
    #: Said after "There is no <what> '<id>'" when an id is unknown.
    unknown_hint: str = ""

    async def load(self, db: AsyncDatabase[Document], item_id: str, session: Session = None) -> Listed:
        doc = await db[self.collection].find_one({"_id": item_id}, session=session)
        if doc is None:
            raise UnknownItem(f"There is no {self.kind.what} {item_id!r}{self.unknown_hint}.")
        return self.from_document(doc)

    async def by_id(self, db: AsyncDatabase[Document], item_ids: list[str], session: Session = None) -> dict[str, Listed]:
        docs = await db[self.collection].find({"_id": {"$in": list(dict.fromkeys(item_ids))}}, session=session).to_list()
        return {d["_id"]: self.from_document(d) for d in docs}

    async def insert(self, db: AsyncDatabase[Document], item: Listed, session: Session) -> None:
        try:
            await db[self.collection].insert_one(theme_document(item), session=session)
        except DuplicateKeyError:
            raise self._name_taken(item) from None
        await self._write_history(db, item, session)

    async def save(self, db: AsyncDatabase[Document], item: Listed, *, expected_version: int, session: Session) -> None:
        if item.version == expected_version:
            return
        try:
            await replace_versioned(db[self.collection], item.id, theme_document(item), expected_version, what=self.kind.what, session=session)
        except DuplicateKeyError:
            raise self._name_taken(item) from None
        await self._write_history(db, item, session)

    async def page(self, db: AsyncDatabase[Document], *, include_retired: bool, after: str | None, limit: int) -> list[Document]:
        return await page_by_id(db[self.collection], {"active": None if include_retired else True}, after=after, limit=limit)

    def _name_taken(self, item: Listed) -> RuleConflict:
        return RuleConflict(f"A {self.kind.what} called {item.name!r} already exists.", slug=self.name_taken_slug)

    async def _write_history(self, db: AsyncDatabase[Document], item: Listed, session: Session) -> None:
        await db[self.history].insert_one(
            {"theme_id": item.id, "version": item.version, "name": item.name, "description": item.description, "active": item.active,
             "by": item.updated_by, "at": item.updated_at},
            session=session,
        )


THEME_LIST: ManagedList[Theme] = ManagedList(Theme, THEMES, THEME_HISTORY, theme_from_document, name_taken_slug="theme-exists")
CLOSING_REASON_LIST: ManagedList[ClosingReason] = ManagedList(
    ClosingReason, CLOSING_REASONS, CLOSING_REASON_HISTORY, closing_reason_from_document, name_taken_slug="closing-reason-exists",
    unknown_hint=": choose one from the list of closing reasons",
)
