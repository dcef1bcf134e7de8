"""Read model behind the timeliness report: totals per type rolled up per day and per month of the
pieces of work's start dates, so the report's totals read a few documents per period instead of
every exemplar.

In one collection, ``timeliness_rollups``:

- one document per start date (``_id`` ``"d|2026-03-02"``) and per month (``"m|2026-03"``) with
  ``t.<type>.<outcome>``: how many exemplars of the type started then are ``on_time``, ``late``,
  ``no_timescale`` (their outcome no longer depends on the day the report is asked), or
  ``pending``: not counter-signed, with a timescale (open or overdue, depending on "today");
- one document per type, start date and due date of the pending ones
  (``"p|<type>|<start>|<due>"``, with ``type_code``, ``start_date``, ``due_on`` and ``n``), so the
  report counts the open ones exactly with a range read of those due today or later (a few weeks'
  worth, however long the period): the rest of the pending ones are overdue.

Type codes are escaped as map keys (``key``). The store keeps the roll-ups exact: every write of
an exemplar applies, in the same transaction, ``contribution(after) - contribution(before)`` with
``$inc`` (``apply``). ``readmodels`` recomputes them from the exemplars:
``python -m signoff.readmodels``.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import date, timedelta
from typing import TypeAlias

from pymongo import ASCENDING, IndexModel
from pymongo.asynchronous.database import AsyncDatabase
from shared.mongo import Document, Indexes

from shared import rollups as counted

from .domain.timeliness import Status, assess

ROLLUPS = "timeliness_rollups"
#: ``b`` repeats the ``_id`` of day and month documents so a period is one indexed range (SecantusDB
#: scans for a range on ``_id``); ``due_on`` finds the pending ones due today or later.
INDEXES = [Indexes(ROLLUPS, [IndexModel([("b", ASCENDING)]), IndexModel([("due_on", ASCENDING)])]), counted.pending_indexes(ROLLUPS)]

PENDING = "pending"
#: The fields of an exemplar document the roll-up reads (the projection of the "before" document).
FIELDS = {"_id": 1, "type_code": 1, "start_date": 1, "counter_signed_on": 1, "timescale_working_days": 1}

#: (roll-up document id, dotted path) -> amount
Contribution: TypeAlias = counted.Contribution


key = counted.field
unkey = counted.value


def outcome(doc: Document) -> tuple[str, date | None]:
    """The exemplar's outcome as the roll-up counts it, and its due date when it is pending."""
    start = date.fromisoformat(doc["start_date"])
    signed = doc.get("counter_signed_on")
    # "today" only decides open or overdue, which the roll-up leaves to the report.
    a = assess(start, date.fromisoformat(signed) if signed else None, doc.get("timescale_working_days"), start)
    if a.status in (Status.OPEN, Status.OVERDUE):
        return PENDING, a.due_on
    return a.status.value, None


def contribution(doc: Document | None) -> Contribution:
    """What one exemplar document adds to the roll-ups (nothing for None: no exemplar)."""
    out: Contribution = Counter()
    if doc is None:
        return out
    start, type_code = doc["start_date"], doc["type_code"]
    found, due = outcome(doc)
    for bucket in (f"d|{start}", f"m|{start[:7]}"):
        out[(bucket, f"t.{key(type_code)}.{found}")] += 1
    if due is not None:
        out[(f"p|{type_code}|{start}|{due.isoformat()}", "n")] += 1
    return out


def fields(bucket: str) -> Document:
    """The indexed fields of a roll-up document (``b`` of a day or month, the pending ones' own)."""
    if not bucket.startswith("p|"):
        return {"b": bucket}
    _, type_code, start, due = bucket.split("|")
    return {"type_code": type_code, "start_date": start, "due_on": due}


#: Every write's change, the fold before a report reads, the background folder, a rebuild's documents.
ROLLUP = counted.Rollups(ROLLUPS, contribution, fields)
delta, apply, apply_at_end, fold, folder, documents = ROLLUP.delta, ROLLUP.apply, ROLLUP.apply_at_end, ROLLUP.fold, ROLLUP.folder, ROLLUP.documents


# --- reading -----------------------------------------------------------------------------------


_next_month = counted.next_month


def ranges(start: date, end: date) -> list[tuple[str, str]]:
    """The roll-up ids covering ``start``..``end`` (inclusive), as inclusive ranges of ``_id`` (and ``b``): the days
    before the first whole month, the whole months, the days after the last whole month."""
    months: list[date] = []
    cursor = start if start.day == 1 else _next_month(start)
    while _next_month(cursor) - timedelta(days=1) <= end:
        months.append(cursor)
        cursor = _next_month(cursor)
    if not months:
        return [(f"d|{start.isoformat()}", f"d|{end.isoformat()}")] if start <= end else []
    out = []
    if start < months[0]:
        out.append((f"d|{start.isoformat()}", f"d|{(months[0] - timedelta(days=1)).isoformat()}"))
    out.append((f"m|{months[0].isoformat()[:7]}", f"m|{months[-1].isoformat()[:7]}"))
    after = _next_month(months[-1])
    if after <= end:
        out.append((f"d|{after.isoformat()}", f"d|{end.isoformat()}"))
    return out


async def counts(db: AsyncDatabase[Document], type_code: str | None, start: date, end: date, today: date) -> dict[str, dict[str, int]]:
    """Per type, how many exemplars started in ``start``..``end`` have each status on ``today``
    (types with none left out)."""
    await fold(db)
    field = "t" if type_code is None else f"t.{key(type_code)}"
    found = await asyncio.gather(
        *(db[ROLLUPS].find({"b": {"$gte": low, "$lte": high}}, {field: 1}).to_list() for low, high in ranges(start, end))
    )
    by_type: dict[str, dict[str, int]] = {}
    for doc in (d for docs in found for d in docs):
        for stored, outcomes in (doc.get("t") or {}).items():
            if type_code is not None and unkey(stored) != type_code:
                continue
            into = by_type.setdefault(unkey(stored), {})
            for name, n in outcomes.items():
                into[name] = into.get(name, 0) + n
    # One range on ``due_on`` (the pending ones due from today: a few weeks of start dates); the
    # period and the type are checked here, as a second range would make the database scan.
    open_by_type: Counter[str] = Counter()
    low, high = start.isoformat(), end.isoformat()
    for doc in await db[ROLLUPS].find({"due_on": {"$gte": today.isoformat()}}, {"type_code": 1, "start_date": 1, "n": 1}).to_list():
        if low <= doc["start_date"] <= high and type_code in (None, doc["type_code"]):
            open_by_type[doc["type_code"]] += doc["n"]
    out: dict[str, dict[str, int]] = {}
    for name, found_counts in by_type.items():
        pending = found_counts.pop(PENDING, 0)
        counted = {s.value: found_counts.get(s.value, 0) for s in Status}
        counted[Status.OPEN.value] = open_by_type[name]
        counted[Status.OVERDUE.value] = pending - open_by_type[name]
        if any(counted.values()):
            out[name] = counted
    return out


# --- rebuilding --------------------------------------------------------------------------------

