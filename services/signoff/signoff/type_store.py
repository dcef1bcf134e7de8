"""Exemplar types in MongoDB: the current definition of each type in ``exemplar_types`` and every
version ever stored in ``exemplar_type_versions`` (an exemplar is read with the version it was
started on). The seed's five types are stored at start-up when absent."""

from __future__ import annotations

import weakref
from datetime import datetime
from typing import Any

from pymongo import ASCENDING, IndexModel
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError
from shared.keyset import page_by_id
from shared.mongo import Document, Indexes, Transaction, UnitOfWork
from shared.versioned import Stale, check_version, insert_versioned, update_versioned

from .domain.errors import NotFound
from .domain.types import ExemplarType, Question, QuestionKind

TYPES = "exemplar_types"
TYPE_VERSIONS = "exemplar_type_versions"
SYSTEM = "system"
WHAT = "exemplar type"

INDEXES = [
    Indexes(TYPES, []),
    Indexes(TYPE_VERSIONS, [IndexModel([("code", ASCENDING), ("version", ASCENDING)], unique=True)]),
]


def definition(t: ExemplarType) -> dict[str, Any]:
    return {
        "name": t.name,
        "questions": [
            {"id": q.id, "text": q.text, "kind": q.kind.value, "mandatory": q.mandatory, "options": list(q.options)} for q in t.questions
        ],
        "first_signers": sorted(t.first_signers),
        "counter_signers": sorted(t.counter_signers),
        "same_person_may_sign_both": t.same_person_may_sign_both,
        "timescale_working_days": t.timescale_working_days,
        "start_question_id": t.start_question_id,
        "role_notes": t.role_notes,
        "active": t.active,
    }


def from_definition(code: str, version: int, d: dict[str, Any]) -> ExemplarType:
    return ExemplarType(
        code=code,
        name=d["name"],
        questions=tuple(Question(q["id"], q["text"], QuestionKind(q["kind"]), q["mandatory"], tuple(q.get("options") or ())) for q in d["questions"]),
        first_signers=frozenset(d["first_signers"]),
        counter_signers=frozenset(d["counter_signers"]),
        same_person_may_sign_both=d["same_person_may_sign_both"],
        timescale_working_days=d.get("timescale_working_days"),
        start_question_id=d.get("start_question_id"),
        role_notes=d.get("role_notes", ""),
        active=d.get("active", True),
        version=version,
    )


def _from_doc(doc: Document) -> ExemplarType:
    return from_definition(doc["_id"], doc["version"], doc["definition"])


async def seed(uow: UnitOfWork, types: tuple[ExemplarType, ...]) -> int:
    """Store each type that is not there yet (several replicas may start at once). Returns how many were added."""
    added = 0
    for t in types:
        if await uow.db[TYPES].find_one({"_id": t.code}, {"_id": 1}) is not None:
            continue

        async def work(tx: Transaction, t: ExemplarType = t) -> None:
            await _write(uow.db, tx.session, t, 1, by=SYSTEM, at=uow.clock.now(), previous=None)

        try:
            await uow.run(work)
            added += 1
        except (DuplicateKeyError, Stale):
            pass  # another replica stored it first
    return added


async def _write(
    db: AsyncDatabase[Document], session: AsyncClientSession, t: ExemplarType, version: int, *, by: str, at: datetime, previous: int | None
) -> None:
    body = definition(t)
    doc = {"_id": t.code, "version": version, "definition": body, "updated_at": at, "updated_by": by}
    if previous is None:
        await insert_versioned(db[TYPES], {**doc, "created_at": at, "created_by": by}, what=WHAT, session=session)
    else:
        await update_versioned(db[TYPES], t.code, {"$set": doc}, previous, what=WHAT, session=session)
    await db[TYPE_VERSIONS].insert_one(
        {"_id": f"{t.code}:{version}", "code": t.code, "version": version, "definition": body, "at": at, "by": by}, session=session
    )


async def put(uow: UnitOfWork, t: ExemplarType, *, by: str, if_match: int | None) -> tuple[ExemplarType, bool]:
    """Create a type, or replace it as a new version. Returns the stored type and whether it was created.
    Replacing needs ``if_match`` (the version read); an unchanged definition makes no new version."""

    async def work(tx: Transaction) -> tuple[ExemplarType, bool]:
        current = await uow.db[TYPES].find_one({"_id": t.code}, session=tx.session)
        at = uow.clock.now()
        if current is None:
            if if_match is not None:  # a type not stored yet is at revision 0
                raise Stale(WHAT, 0, if_match, ident=t.code)
            await _write(uow.db, tx.session, t, 1, by=by, at=at, previous=None)
            return from_definition(t.code, 1, definition(t)), True
        if if_match is None:  # answered 428, naming the revision the type is at
            raise Stale(WHAT, current["version"], None, ident=t.code)
        check_version(WHAT, current["version"], if_match, ident=t.code)
        if current["definition"] == definition(t):
            return _from_doc(current), False
        await _write(uow.db, tx.session, t, current["version"] + 1, by=by, at=at, previous=current["version"])
        return from_definition(t.code, current["version"] + 1, definition(t)), False

    return await uow.run(work)


async def get(db: AsyncDatabase[Document], code: str, session: AsyncClientSession | None = None) -> ExemplarType:
    doc = await db[TYPES].find_one({"_id": code}, session=session)
    if doc is None:
        raise NotFound("exemplar type", code)
    return _from_doc(doc)


#: Type versions already read, per database: a stored version never changes (a new definition is
#: a new version), so every exemplar read after the first needs no read of its type.
_VERSIONS: weakref.WeakKeyDictionary[Any, dict[tuple[str, str, int], ExemplarType]] = weakref.WeakKeyDictionary()


async def get_version(db: AsyncDatabase[Document], code: str, version: int, session: AsyncClientSession | None = None) -> ExemplarType:
    known = _VERSIONS.setdefault(db.client, {})
    key = (db.name, code, version)
    if key in known:
        return known[key]
    doc = await db[TYPE_VERSIONS].find_one({"_id": f"{code}:{version}"}, session=session)
    if doc is None:
        raise NotFound("exemplar type version", f"{code} v{version}")
    found = known[key] = from_definition(code, version, doc["definition"])
    return found


async def meta(db: AsyncDatabase[Document], code: str) -> Document | None:
    return await db[TYPES].find_one({"_id": code}, {"definition": 0})


async def list_types(db: AsyncDatabase[Document], *, after: str | None, limit: int) -> list[ExemplarType]:
    docs = await page_by_id(db[TYPES], {}, after=after, limit=limit)
    return [_from_doc(d) for d in docs]


async def history(db: AsyncDatabase[Document], code: str) -> list[Document]:
    return await db[TYPE_VERSIONS].find({"code": code}).sort("version", ASCENDING).to_list()
