"""The monthly cycle in MongoDB: cycles (one per programme and month, under a unique id, so two
replicas drawing at once record one), allocation failures, and dispensations with their history.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from datetime import date
from typing import Any

from pymongo import ASCENDING, IndexModel, UpdateOne
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError
from shared.directory_sync import applied_through
from shared.keyset import page_by_id
from shared.mongo import Document, Indexes, Transaction
from shared.roles import Role
from shared.versioned import replace_versioned

from ..case_audit.store import AUDITS
from ..common.directory import CASES, PEOPLE
from ..tools.domain.definition import ProgrammeKind
from .domain.cycle import Cycle
from .domain.dispensation import Dispensation, DispensationReason
from .domain.sampling import Assignment, CaseReason, IdleAuditor, OpenCase, Sample, SampleInputs, UncoveredTeam
from .domain.timetable import Month, Timetable

CYCLES = "cycles"
FAILURES = "allocation_failures"
DISPENSATIONS = "dispensations"
DISPENSATION_HISTORY = "dispensation_history"
#: The inputs each cycle was drawn from, and every case's reason: in chunks keyed by cycle id.
CYCLE_INPUTS = "cycle_inputs"
CYCLE_CASE_REASONS = "cycle_case_reasons"
#: Rows per chunk (a case row is a short list of identifiers).
INPUT_CHUNK = 5000
REASON_CHUNK = 500

INDEXES = [
    Indexes(CYCLES, [IndexModel([("tool_id", ASCENDING), ("month", ASCENDING)], unique=True)]),
    Indexes(FAILURES, [IndexModel([("cycle_id", ASCENDING), ("_id", ASCENDING)])]),
    Indexes(
        DISPENSATIONS,
        [
            IndexModel([("person_id", ASCENDING), ("_id", ASCENDING)]),
            IndexModel([("months", ASCENDING)]),
            IndexModel([("open_ended", ASCENDING), ("first_month", ASCENDING)]),
        ],
    ),
    Indexes(DISPENSATION_HISTORY, [IndexModel([("dispensation_id", ASCENDING), ("version", ASCENDING)], unique=True)]),
    Indexes(CYCLE_INPUTS, [IndexModel([("cycle_id", ASCENDING), ("part", ASCENDING)], unique=True)]),
    Indexes(CYCLE_CASE_REASONS, [IndexModel([("cycle_id", ASCENDING), ("last", ASCENDING)], unique=True)]),
]


class CycleExists(Exception):
    def __init__(self, cycle_id: str) -> None:
        super().__init__(cycle_id)
        self.cycle_id = cycle_id


#: What a ``Stale`` of a cycle names.
CYCLE = "cycle"
#: What a ``Stale`` of the dispensations names.
DISPENSATION = "dispensation"


# --- cycles ------------------------------------------------------------------------------------


def _dates(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list):
        return [_dates(v) for v in value]
    return value


def cycle_document(cycle: Cycle) -> Document:
    sample = cycle.sample
    tt = cycle.timetable
    return {
        "_id": cycle.id, "tool_id": cycle.tool_id, "tool_version": cycle.tool_version, "programme": cycle.programme.value,
        "month": str(cycle.month), "seed": sample.seed, "inputs_digest": sample.inputs_digest, "version": cycle.version,
        "drawn_by": cycle.drawn_by, "drawn_at": cycle.drawn_at,
        "timetable": {k: _dates(v) for k, v in asdict(tt).items() if k != "month"},
        "eligible_cases": sample.eligible_cases, "uncovered_team_ids": sample.uncovered_team_ids,
        "dispensed_ids": sample.dispensed_ids, "idle_auditor_ids": sample.idle_auditor_ids,
        "audits": len(sample.assignments), "assignments": [asdict(a) for a in sample.assignments],
        "idle_auditors": [asdict(a) for a in sample.idle_auditors], "uncovered_teams": [asdict(t) for t in sample.uncovered_teams],
        "awaiting_peer_reviewer": sample.awaiting_peer_reviewer, "own_service_fallback": sample.own_service_fallback,
        "peer_review": sample.peer_review, "directory_version": cycle.directory_version, "dispensation_ids": cycle.dispensation_ids,
        "peer_reviewers_assigned": cycle.peer_reviewers_assigned,
    }


def cycle_from_document(doc: Document) -> Cycle:
    tt = doc["timetable"]
    month = Month.parse(doc["month"])
    sample = Sample(
        seed=doc["seed"], inputs_digest=doc["inputs_digest"], assignments=[Assignment(**a) for a in doc["assignments"]],
        uncovered_team_ids=doc["uncovered_team_ids"], dispensed_ids=doc["dispensed_ids"], idle_auditor_ids=doc["idle_auditor_ids"],
        eligible_cases=doc["eligible_cases"],
        # Cycles drawn before the reasons were recorded have none (their uncovered teams had cases to draw).
        idle_auditors=[IdleAuditor(**a) for a in doc.get("idle_auditors", [])],
        uncovered_teams=[UncoveredTeam(**t) for t in doc.get("uncovered_teams", [])],
        awaiting_peer_reviewer=list(doc.get("awaiting_peer_reviewer", [])), own_service_fallback=doc.get("own_service_fallback", False),
        peer_review=doc.get("peer_review", False),
    )
    timetable = Timetable(
        month=month, draw_on=date.fromisoformat(tt["draw_on"]), month_starts=date.fromisoformat(tt["month_starts"]),
        digest_on=date.fromisoformat(tt["digest_on"]), due_on=date.fromisoformat(tt["due_on"]),
        auditor_reminders=[date.fromisoformat(d) for d in tt["auditor_reminders"]],
    )
    return Cycle(
        id=doc["_id"], tool_id=doc["tool_id"], tool_version=doc["tool_version"], programme=ProgrammeKind(doc["programme"]), month=month,
        sample=sample, timetable=timetable, drawn_by=doc["drawn_by"], drawn_at=doc["drawn_at"], version=doc["version"],
        # Cycles drawn before issue 18 recorded neither.
        directory_version=dict(doc.get("directory_version", {})), dispensation_ids=list(doc.get("dispensation_ids", [])),
        peer_reviewers_assigned=dict(doc.get("peer_reviewers_assigned", {})),
    )


# --- what a cycle was drawn from, and every case's reason ----------------------------------------


def _chunks(rows: list[Any], size: int) -> list[list[Any]]:
    return [rows[i : i + size] for i in range(0, len(rows), size)] or [[]]


def inputs_documents(cycle_id: str, inputs: SampleInputs) -> list[Document]:
    """The inputs, compactly: one row of identifiers per case, in chunks (part 0 also holds the people)."""
    # Rows as tuples (stored as arrays all the same): tens of thousands of lists would each be
    # tracked by the garbage collector while the draw holds them.
    cases = [(c.case_id, tuple(c.case_types), c.team_id, c.line_manager_id, c.service_id) for c in inputs.cases]
    recent = sorted(inputs.recently_audited)
    parts = max(len(_chunks(cases, INPUT_CHUNK)), len(_chunks(recent, INPUT_CHUNK)))
    docs: list[Document] = [
        {"_id": f"{cycle_id}|{n:05d}", "cycle_id": cycle_id, "part": n, "parts": parts,
         "cases": cases[n * INPUT_CHUNK : (n + 1) * INPUT_CHUNK], "recently_audited": recent[n * INPUT_CHUNK : (n + 1) * INPUT_CHUNK]}
        for n in range(parts)
    ]
    docs[0].update({
        "auditors": list(inputs.auditors), "peer_reviewers": list(inputs.peer_reviewers), "dispensed": sorted(inputs.dispensed),
        "line_managers": sorted([p, m] for p, m in inputs.line_managers.items()),
        "auditor_services": sorted([a, s] for a, s in inputs.auditor_services.items()),
    })
    return docs


def inputs_from_documents(docs: list[Document]) -> SampleInputs | None:
    """The recorded inputs (None when none were recorded, or a chunk is missing)."""
    docs = sorted(docs, key=lambda d: d["part"])
    if not docs or [d["part"] for d in docs] != list(range(docs[0]["parts"])):
        return None
    head = docs[0]
    return SampleInputs(
        cases=[
            OpenCase(case_id=c[0], case_types=tuple(c[1]), team_id=c[2], line_manager_id=c[3], service_id=c[4])
            for d in docs for c in d["cases"]
        ],
        auditors=list(head["auditors"]), peer_reviewers=list(head["peer_reviewers"]), dispensed=frozenset(head["dispensed"]),
        recently_audited=frozenset(r for d in docs for r in d["recently_audited"]),
        line_managers={p: m for p, m in head["line_managers"]}, auditor_services={a: s for a, s in head["auditor_services"]},
    )


def _reason_row(r: CaseReason) -> tuple[Any, ...]:
    return (r.case_id, r.picked, r.rank, r.auditor_id, r.basis, r.reason, r.outranked_by)


def _reason_of(row: Sequence[Any]) -> CaseReason:
    return CaseReason(case_id=row[0], picked=row[1], rank=row[2], auditor_id=row[3], basis=row[4], reason=row[5], outranked_by=row[6])


def reason_documents(cycle_id: str, reasons: list[CaseReason]) -> list[Document]:
    rows = sorted((_reason_row(r) for r in reasons), key=lambda row: row[0])
    return [
        {"_id": f"{cycle_id}|{n:05d}", "cycle_id": cycle_id, "part": n, "first": chunk[0][0], "last": chunk[-1][0], "rows": chunk}
        for n, chunk in enumerate(_chunks(rows, REASON_CHUNK)) if chunk
    ]


async def record_inputs(tx: Transaction, db: AsyncDatabase[Document], cycle_id: str, inputs: SampleInputs, reasons: list[CaseReason]) -> None:
    """The inputs the cycle was drawn from and every case's reason, in the draw's transaction."""
    await db[CYCLE_INPUTS].insert_many(inputs_documents(cycle_id, inputs), session=tx.session)
    if docs := reason_documents(cycle_id, reasons):
        await db[CYCLE_CASE_REASONS].insert_many(docs, session=tx.session)


async def load_inputs(db: AsyncDatabase[Document], cycle_id: str) -> SampleInputs | None:
    return inputs_from_documents(await db[CYCLE_INPUTS].find({"cycle_id": cycle_id}).to_list())


async def case_reasons(db: AsyncDatabase[Document], cycle_id: str) -> list[CaseReason]:
    docs = await db[CYCLE_CASE_REASONS].find({"cycle_id": cycle_id}).sort("part", ASCENDING).to_list()
    return [_reason_of(row) for d in docs for row in d["rows"]]


async def case_reasons_after(db: AsyncDatabase[Document], cycle_id: str, *, after: str | None, limit: int) -> list[CaseReason]:
    """Up to ``limit`` case reasons after the case id ``after``, by case id."""
    query: dict[str, Any] = {"cycle_id": cycle_id}
    if after is not None:
        query["last"] = {"$gt": after}
    docs = await db[CYCLE_CASE_REASONS].find(query).sort("last", ASCENDING).limit(limit // REASON_CHUNK + 2).to_list()
    rows = [row for d in docs for row in d["rows"] if after is None or row[0] > after]
    return [_reason_of(row) for row in rows[:limit]]


async def insert_cycle(tx: Transaction, db: AsyncDatabase[Document], cycle: Cycle) -> None:
    try:
        await db[CYCLES].insert_one(cycle_document(cycle), session=tx.session)
    except DuplicateKeyError:
        raise CycleExists(cycle.id) from None


async def save_cycle(tx: Transaction, db: AsyncDatabase[Document], cycle: Cycle, expected: int) -> None:
    """Replace the cycle if it is still at ``expected`` (``Stale`` otherwise); it carries its new version."""
    cycle.version = expected + 1
    await replace_versioned(db[CYCLES], cycle.id, cycle_document(cycle), expected, what=CYCLE, session=tx.session)


async def load_cycle(db: AsyncDatabase[Document], cycle_id: str, *, tx: Transaction | None = None) -> Cycle | None:
    doc = await db[CYCLES].find_one({"_id": cycle_id}, session=tx.session if tx else None)
    return cycle_from_document(doc) if doc else None


async def service_managers(db: AsyncDatabase[Document], max_chain: int = 8) -> dict[str, str | None]:
    """Person -> their service: the first active service manager up their line of management
    (themselves, if they are one); None when the chain names none."""
    people = {p["_id"]: p for p in await db[PEOPLE].find({}, {"roles": 1, "line_manager_id": 1, "active": 1}).to_list()}
    found: dict[str, str | None] = {}
    for person_id in people:
        current: str | None = person_id
        for _ in range(max_chain):
            p = people.get(current or "")
            if p is None:
                current = None
                break
            if Role.SERVICE_MANAGER in p.get("roles", []) and p.get("active", True):
                break
            current = p.get("line_manager_id")
        else:
            current = None
        found[person_id] = current
    return found


async def allocated(db: AsyncDatabase[Document], allocation_keys: list[str], *, tx: Transaction) -> dict[str, str]:
    """allocation_key -> audit id for those of ``allocation_keys`` already allocated: one read of
    the audits' unique allocation_key index for a batch of work items."""
    docs = await db[AUDITS].find({"allocation_key": {"$in": sorted(set(allocation_keys))}}, {"allocation_key": 1}, session=tx.session).to_list()
    return {d["allocation_key"]: str(d["_id"]) for d in docs}


async def cases(db: AsyncDatabase[Document], case_ids: list[str], *, tx: Transaction) -> dict[str, Document]:
    """The directory projection's cases by id, in one read (a batch of work items' cases)."""
    docs = await db[CASES].find({"_id": {"$in": sorted(set(case_ids))}}, session=tx.session).to_list()
    return {d["_id"]: d for d in docs}


async def directory_version(db: AsyncDatabase[Document]) -> dict[str, int]:
    """How far the directory projection has applied each kind of change (the gateway's sequences)."""
    return await applied_through(db)


async def list_cycles(db: AsyncDatabase[Document], *, tool_id: str | None, after: str | None, limit: int) -> list[Document]:
    """Cycles by programme then month, without their assignments."""
    id_range: dict[str, str] = {}
    if tool_id is not None:
        id_range = {"$gt": f"{tool_id}:", "$lt": f"{tool_id}:\uffff"}
    if after is not None:
        id_range["$gt"] = max(after, id_range.get("$gt", after))
    query: dict[str, Any] = {"_id": id_range} if id_range else {}
    return await db[CYCLES].find(query, {"assignments": 0}).sort("_id", ASCENDING).limit(limit).to_list()


async def record_failures(tx: Transaction, db: AsyncDatabase[Document], failed: list[Document]) -> None:
    """Work items that could not be allocated, for QA staff (``failures``): each of ``failed`` holds
    its ``allocation_key`` and the fields recorded under it (a later failure of the same key
    replaces them), in one bulk write."""
    await db[FAILURES].bulk_write(
        [UpdateOne({"_id": f["allocation_key"]}, {"$set": {k: v for k, v in f.items() if k != "allocation_key"}}, upsert=True) for f in failed],
        ordered=True, session=tx.session,
    )


async def failures(db: AsyncDatabase[Document], cycle_id: str) -> list[Document]:
    return await db[FAILURES].find({"cycle_id": cycle_id}).sort("_id", ASCENDING).to_list()


# --- dispensations -----------------------------------------------------------------------------


def dispensation_document(d: Dispensation) -> Document:
    return {
        "_id": d.id, "person_id": d.person_id, "reason": d.reason.value, "starts_on": d.starts_on.isoformat(),
        "ends_on": d.ends_on.isoformat() if d.ends_on else None, "note": d.note, "version": d.version,
        "recorded_by": d.recorded_by, "recorded_at": d.recorded_at, "updated_by": d.updated_by, "updated_at": d.updated_at,
        "withdrawn": d.withdrawn, "withdrawal_reason": d.withdrawal_reason, "months": d.months,
        "open_ended": d.open_ended and not d.withdrawn, "first_month": str(Month.of(d.starts_on)),
    }


def dispensation_from_document(doc: Document) -> Dispensation:
    return Dispensation(
        id=doc["_id"], person_id=doc["person_id"], reason=DispensationReason(doc["reason"]), starts_on=date.fromisoformat(doc["starts_on"]),
        ends_on=date.fromisoformat(doc["ends_on"]) if doc.get("ends_on") else None, note=doc.get("note", ""), version=doc["version"],
        recorded_by=doc["recorded_by"], recorded_at=doc["recorded_at"], updated_by=doc["updated_by"], updated_at=doc["updated_at"],
        withdrawn=doc.get("withdrawn", False), withdrawal_reason=doc.get("withdrawal_reason", ""), months=list(doc.get("months", [])),
    )


async def _keep_version(tx: Transaction, db: AsyncDatabase[Document], d: Dispensation) -> None:
    doc = dispensation_document(d)
    doc["dispensation_id"] = doc.pop("_id")
    await db[DISPENSATION_HISTORY].insert_one(doc, session=tx.session)


async def insert_dispensation(tx: Transaction, db: AsyncDatabase[Document], d: Dispensation) -> None:
    d.version = 1
    await db[DISPENSATIONS].insert_one(dispensation_document(d), session=tx.session)
    await _keep_version(tx, db, d)


async def save_dispensation(tx: Transaction, db: AsyncDatabase[Document], d: Dispensation, expected: int) -> None:
    d.version = expected + 1
    await replace_versioned(db[DISPENSATIONS], d.id, dispensation_document(d), expected, what=DISPENSATION, session=tx.session)
    await _keep_version(tx, db, d)


async def load_dispensation(db: AsyncDatabase[Document], dispensation_id: str, *, tx: Transaction | None = None) -> Dispensation | None:
    doc = await db[DISPENSATIONS].find_one({"_id": dispensation_id}, session=tx.session if tx else None)
    return dispensation_from_document(doc) if doc else None


async def list_dispensations(db: AsyncDatabase[Document], *, person_id: str | None, month: str | None, after: str | None, limit: int) -> list[Dispensation]:
    if month is not None:
        found = {d.id: d for d in await covering(db, Month.parse(month), include_withdrawn=True)}
        items = sorted((d for d in found.values() if person_id is None or d.person_id == person_id), key=lambda d: d.id)
        return [d for d in items if after is None or d.id > after][:limit]
    docs = await page_by_id(db[DISPENSATIONS], {"person_id": person_id}, after=after, limit=limit)
    return [dispensation_from_document(d) for d in docs]


async def covering(db: AsyncDatabase[Document], month: Month, *, include_withdrawn: bool = False) -> list[Dispensation]:
    """Dispensations covering ``month``: by the months recorded on them, and open-ended ones."""
    docs = await db[DISPENSATIONS].find({"months": str(month)}).to_list()
    docs += await db[DISPENSATIONS].find({"open_ended": True, "first_month": {"$lt": str(month.plus(1))}}).to_list()
    found = {d["_id"]: dispensation_from_document(d) for d in docs}
    return [d for d in found.values() if (include_withdrawn and d.withdrawn) or d.covers(month)]


async def dispensed_people(db: AsyncDatabase[Document], month: Month) -> frozenset[str]:
    return frozenset(d.person_id for d in await covering(db, month))


async def dispensation_history(db: AsyncDatabase[Document], dispensation_id: str, *, after: int, limit: int) -> list[Document]:
    return await db[DISPENSATION_HISTORY].find({"dispensation_id": dispensation_id, "version": {"$gt": after}}).sort("version", ASCENDING).limit(limit).to_list()
