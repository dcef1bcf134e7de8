"""Exemplars in MongoDB: the aggregate <-> its document, version-guarded saves that write the
chronology entries and outbox events of the change in the same transaction, workflow messages, and
the indexed reads behind every list.

One document per exemplar holds all its versions (an unlock is rare; versions are never removed).
Fields at the top level (``status``, ``start_date``, ``counter_signed_on``, ``people_ids``,
``sort_key``, ``timeliness_key``) are copies kept for indexed queries. Every write also moves the
timeliness report's roll-ups (``rollups``) in the same transaction.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

from pymongo import ASCENDING, IndexModel
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase
from shared.calendar import local_date
from shared.event_translation import stage
from shared.keyset import page_by_windows
from shared.mongo import Document, Indexes, Transaction
from shared.versioned import Snapshots, as_it_was, insert_versioned, replace_versioned_at_end

from . import events as integration
from . import rollups, type_store
from .domain import chronology
from .domain.exemplar import (
    AnswerEdit,
    CloneOf,
    CounterSignature,
    Exemplar,
    ExemplarVersion,
    Origin,
    Signature,
    Unlock,
)
from .domain.messages import Action, WorkflowMessage
from .domain.types import ExemplarType

EXEMPLARS = "exemplars"
CHRONOLOGY = "chronology"
MESSAGES = "workflow_messages"

INDEXES = [
    Indexes(
        EXEMPLARS,
        [
            IndexModel([("case_id", ASCENDING), ("sort_key", ASCENDING)]),
            IndexModel([("people_ids", ASCENDING), ("sort_key", ASCENDING)]),
            IndexModel([("clone_of.exemplar_id", ASCENDING), ("clone_of.version", ASCENDING), ("case_id", ASCENDING)]),
            IndexModel([("clone_batch_id", ASCENDING)], sparse=True),
            # The timeliness report's rows, one page at a time, in its order (with or without a type).
            IndexModel([("timeliness_key", ASCENDING)]),
            IndexModel([("timeliness_type_key", ASCENDING)]),
        ],
        # The timeliness report read (type,) start date before it had its own keys: every exemplar
        # written still updated both.
        retired=["type_code_1_start_date_1__id_1", "start_date_1__id_1"],
    ),
    *rollups.INDEXES,
    Indexes(CHRONOLOGY, [IndexModel([("case_id", ASCENDING), ("sort_key", ASCENDING)])]),
    Indexes(
        MESSAGES,
        [
            IndexModel([("exemplar_id", ASCENDING), ("sort_key", ASCENDING)]),
            IndexModel([("to_person_id", ASCENDING), ("sort_key", ASCENDING)]),
        ],
    ),
]


def timeliness_key(start_date: str, type_code: str, exemplar_id: str) -> str:
    """The timeliness report's order and cursor: start date, type, id (as one string, so one index
    serves both). ``timeliness_type_key`` is the type, ``|``, then this: the order within a type."""
    return f"{start_date}|{type_code}|{exemplar_id}"


def sort_key(at: datetime, *parts: object) -> str:
    """A string that sorts in time order (fixed-width UTC), then by ``parts``: one index serves
    both the order and the cursor of every list."""
    stamp = at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return "|".join([stamp, *(str(p) for p in parts)])


# --- aggregate <-> document ------------------------------------------------------------------


def _sig(s: Signature | None) -> Document | None:
    return {"by": s.by, "at": s.at} if s else None


def _version_doc(v: ExemplarVersion) -> Document:
    cs = v.counter_signature
    return {
        "number": v.number,
        "answers": dict(v.answers),
        "created_by": v.created_by,
        "created_at": v.created_at,
        "origin": v.origin.value,
        "status": v.status.value,
        "first_signature": _sig(v.first_signature),
        "counter_signature": (
            {"by": cs.by, "at": cs.at, "comments": cs.comments, "supervision_notes": cs.supervision_notes} if cs else None
        ),
        "unlock": (
            {"by": v.unlock.by, "at": v.unlock.at, "reason": v.unlock.reason, "new_version": v.unlock.new_version} if v.unlock else None
        ),
        "edits": [
            {"by": e.by, "at": e.at, "changes": {k: dict(c) for k, c in e.changes.items()}, "withdrew_first_signature": _sig(e.withdrew_first_signature)}
            for e in v.edits
        ],
    }


def to_document(x: Exemplar, revision: int, *, clone_batch_id: str | None = None) -> Document:
    current = x.current
    people = {x.created_by}
    for v in x.versions:
        people.add(v.created_by)
        people.update(e.by for e in v.edits)
        for s in (v.first_signature, v.counter_signature, v.unlock):
            if s is not None:
                people.add(s.by)
    c = x.clone_of
    doc: Document = {
        "_id": x.id,
        "revision": revision,
        "case_id": x.case_id,
        "team_id": x.team_id,
        "type_code": x.type.code,
        "type_version": x.type.version,
        "created_by": x.created_by,
        "created_at": x.created_at,
        "clone_of": (
            {"exemplar_id": c.exemplar_id, "case_id": c.case_id, "version": c.version, "counter_signed_by": c.counter_signed_by,
             "counter_signed_at": c.counter_signed_at, "comments": c.comments}
            if c else None
        ),
        "versions": [_version_doc(v) for v in x.versions],
        "status": current.status.value,
        "latest_version": current.number,
        "start_date": x.start_date.isoformat(),
        "counter_signed_on": local_date(current.counter_signature.at).isoformat() if current.counter_signature else None,
        "timescale_working_days": x.type.timescale_working_days,
        "people_ids": sorted(people),
        "sort_key": sort_key(x.created_at, x.id),
        "timeliness_key": timeliness_key(x.start_date.isoformat(), x.type.code, x.id),
        "timeliness_type_key": f"{x.type.code}|{timeliness_key(x.start_date.isoformat(), x.type.code, x.id)}",
    }
    if clone_batch_id:
        doc["clone_batch_id"] = clone_batch_id
    return doc


def _to_sig(d: Document | None) -> Signature | None:
    return Signature(d["by"], d["at"]) if d else None


def from_document(doc: Document, exemplar_type: ExemplarType) -> Exemplar:
    versions = []
    for v in doc["versions"]:
        cs, un = v.get("counter_signature"), v.get("unlock")
        versions.append(
            ExemplarVersion(
                number=v["number"], answers=dict(v["answers"]), created_by=v["created_by"], created_at=v["created_at"],
                origin=Origin(v["origin"]), first_signature=_to_sig(v.get("first_signature")),
                counter_signature=CounterSignature(cs["by"], cs["at"], cs.get("comments"), cs.get("supervision_notes")) if cs else None,
                unlock=Unlock(un["by"], un["at"], un["reason"], un["new_version"]) if un else None,
                edits=[AnswerEdit(e["by"], e["at"], e["changes"], _to_sig(e.get("withdrew_first_signature"))) for e in v.get("edits", [])],
            )
        )
    c = doc.get("clone_of")
    return Exemplar(
        id=doc["_id"], case_id=doc["case_id"], team_id=doc["team_id"], type=exemplar_type, created_by=doc["created_by"],
        created_at=doc["created_at"], versions=versions,
        clone_of=CloneOf(c["exemplar_id"], c["case_id"], c["version"], c["counter_signed_by"], c["counter_signed_at"], c.get("comments")) if c else None,
        revision=doc["revision"],
    )


# --- loading and saving ----------------------------------------------------------------------


#: Each loaded or saved exemplar's roll-up fields as stored: the next save's "before", not read again.
SNAPSHOTS = Snapshots(rollups.FIELDS, version_field="revision")


async def load(db: AsyncDatabase[Document], exemplar_id: str, session: AsyncClientSession | None = None) -> Exemplar | None:
    doc = await db[EXEMPLARS].find_one({"_id": exemplar_id}, session=session)
    if doc is None:
        return None
    exemplar_type = await type_store.get_version(db, doc["type_code"], doc["type_version"], session=session)
    exemplar = from_document(doc, exemplar_type)
    SNAPSHOTS.keep(exemplar, doc)
    return exemplar


async def save(tx: Transaction, db: AsyncDatabase[Document], x: Exemplar, *, clone_batch_id: str | None = None) -> None:
    """Write the exemplar (guarded by the revision it was read at), its chronology entries and its
    integration events, all in ``tx``. A concurrent change makes this fail as ``shared.versioned.Stale``.

    The timeliness roll-ups (``rollups``) move by what the write changed, in ``tx`` too, from the
    stored exemplar's roll-up fields as they were loaded (``SNAPSHOTS``: the guarded replace
    replaces exactly that revision), or as read again when this exemplar was not loaded here."""
    read_at = x.revision
    doc = to_document(x, read_at + 1, clone_batch_id=clone_batch_id)
    if read_at == 0:
        await insert_versioned(db[EXEMPLARS], doc, what="exemplar", session=tx.session, version_field="revision")
        before = None
    else:
        before = await as_it_was(
            db[EXEMPLARS], x.id, read_at, what="exemplar", projection=rollups.FIELDS, session=tx.session, version_field="revision",
            read=SNAPSHOTS.read(x),
        )
        # With the roll-up change, the chronology and the events: one command when the work is done.
        replace_versioned_at_end(tx, db[EXEMPLARS], x.id, doc, read_at, what="exemplar", version_field="revision")
    rollups.apply_at_end(db, before, doc, tx)
    x.revision = read_at + 1
    SNAPSHOTS.keep(x, doc)
    record_events(tx, db, x)


def record_events(tx: Transaction, db: AsyncDatabase[Document], x: Exemplar) -> None:
    """Chronology entries and outbox events for what ``x`` recorded (written when ``tx``'s work is
    done); then forgets them."""
    for entry in chronology.entries_for(x.events):
        tx.insert_at_end(db[CHRONOLOGY], _entry_doc(entry))
    stage(tx, integration.integration_event, x.events, subject=integration.subject_of)
    x.events.clear()


def _entry_doc(e: chronology.Entry) -> Document:
    entry_id = uuid.uuid4().hex
    return {
        "_id": entry_id, "case_id": e.case_id, "at": e.at, "by": e.by, "kind": e.kind.value, "exemplar_id": e.exemplar_id,
        "version": e.version, "type_code": e.type_code, "summary": e.summary, "message_id": e.message_id,
        "sort_key": sort_key(e.at, f"{e.seq:04d}", entry_id),
    }


def save_message(tx: Transaction, db: AsyncDatabase[Document], m: WorkflowMessage) -> None:
    """The message, written when ``tx``'s work is done (with the exemplar's writes and the events)."""
    tx.insert_at_end(db[MESSAGES], message_document(m))


def message_document(m: WorkflowMessage) -> Document:
    return {
        "_id": m.id, "exemplar_id": m.exemplar_id, "case_id": m.case_id, "type_code": m.type_code, "version": m.version,
        "to_person_id": m.to_person_id, "assigned_by": m.assigned_by, "from_system": m.from_system, "subject": m.subject,
        "action": m.action.value, "text": m.text, "due_on": m.due_on.isoformat(), "sent_at": m.sent_at,
        "clone_of_exemplar_id": m.clone_of_exemplar_id, "clone_of_version": m.clone_of_version, "send_email": m.send_email,
        "sort_key": sort_key(m.sent_at, m.id),
    }


def message_from_document(d: Document) -> WorkflowMessage:
    return WorkflowMessage(
        d["_id"], d["exemplar_id"], d["case_id"], d["type_code"], d["version"], d["to_person_id"], d["assigned_by"],
        d["from_system"], d["subject"], Action(d["action"]), d.get("text"), date.fromisoformat(d["due_on"]), d["sent_at"],
        d.get("clone_of_exemplar_id"), d.get("clone_of_version"), d.get("send_email", False),
    )


# --- lists (each served by an index, paged by sort_key) -------------------------------------


async def _page(db: AsyncDatabase[Document], collection: str, query: Document, after: str | None, limit: int) -> list[Document]:
    if after is not None:
        query = {**query, "sort_key": {"$gt": after}}
    return await db[collection].find(query).sort("sort_key", ASCENDING).limit(limit).to_list()


async def exemplars_of_case(db: AsyncDatabase[Document], case_id: str, *, after: str | None, limit: int) -> list[Document]:
    return await _page(db, EXEMPLARS, {"case_id": case_id}, after, limit)


async def exemplars_of_person(db: AsyncDatabase[Document], person_id: str, *, after: str | None, limit: int) -> list[Document]:
    return await _page(db, EXEMPLARS, {"people_ids": person_id}, after, limit)


async def chronology_of_case(db: AsyncDatabase[Document], case_id: str, *, after: str | None, limit: int) -> list[Document]:
    return await _page(db, CHRONOLOGY, {"case_id": case_id}, after, limit)


async def messages_of_exemplar(db: AsyncDatabase[Document], exemplar_id: str, *, after: str | None, limit: int) -> list[Document]:
    return await _page(db, MESSAGES, {"exemplar_id": exemplar_id}, after, limit)


async def clones_in_batch(db: AsyncDatabase[Document], batch_id: str) -> list[Document]:
    return await db[EXEMPLARS].find({"clone_batch_id": batch_id}).sort("_id", ASCENDING).to_list()


async def existing_clone(
    db: AsyncDatabase[Document], index_id: str, index_version: int, case_id: str, session: AsyncClientSession | None = None
) -> str | None:
    doc = await db[EXEMPLARS].find_one(
        {"clone_of.exemplar_id": index_id, "clone_of.version": index_version, "case_id": case_id}, {"_id": 1}, session=session
    )
    return doc["_id"] if doc else None


async def counter_signed_types_on_case(
    db: AsyncDatabase[Document], case_id: str, type_codes: set[str], session: AsyncClientSession | None = None
) -> frozenset[str]:
    """Which of ``type_codes`` have an exemplar on the case whose current version is counter-signed."""
    found = await db[EXEMPLARS].find(
        {"case_id": case_id, "type_code": {"$in": sorted(type_codes)}, "status": "counter_signed"}, {"type_code": 1}, session=session
    ).to_list()
    return frozenset(d["type_code"] for d in found)


async def for_timeliness(
    db: AsyncDatabase[Document], type_code: str | None, start_from: date, start_to: date, *, after: str | None = None, limit: int = 0
) -> list[Document]:
    """The exemplars whose piece of work started in the period (inclusive), in the report's order
    (``timeliness_key``: start date, type, id), after the key ``after``, at most ``limit`` (0: all).
    One range of one single-field index, read in its order (``timeliness_key``, or with a type
    ``timeliness_type_key``), so only the page is read."""
    low = start_from.isoformat() if after is None else max(start_from.isoformat(), after)
    high = (start_to + timedelta(days=1)).isoformat()
    field, prefix = ("timeliness_type_key", f"{type_code}|") if type_code else ("timeliness_key", "")
    fields = {"case_id": 1, "team_id": 1, "type_code": 1, "latest_version": 1, "start_date": 1, "counter_signed_on": 1,
              "timescale_working_days": 1, "clone_of.exemplar_id": 1}
    return await page_by_windows(db[EXEMPLARS], field, prefix, low, high, fields, limit)
