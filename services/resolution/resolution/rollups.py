"""Read models behind the real-time reports: roll-ups of the forms, per day and per month of the
date they were raised, so a report reads a few documents per period instead of every form.

One roll-up document per day in England (``_id`` ``"d|2026-03-02"``), month (``"m|2026-03"``), quarter
(``"q|2026-Q1"``) and year (``"y|2026"``) holds, for the forms raised then:

- ``c.<group>.<key>.<status>``: how many forms of each key (theme, stage, team, role, month,
  closing reason) are at each status now, as the resolution counts report groups them;
- ``s.<stage>``: per stage that ended, ``n`` (how many), ``d`` (a histogram of whole days, for the
  average and the longest), ``w``/``wn`` (sum and count of working days) and ``r``/``rn`` (of days
  to the response);
- ``f.<status>``: forms resolved or closed unresolved, ``n`` and ``d`` (histogram of days to finish).

Map keys are escaped (``key``): ``"k"`` then the value with ``%``, ``.`` and ``$`` percent-encoded.

A report over a period reads, from each day, the longest of them that fits in the period: for
three years at most about 60 days, 8 months, 6 quarters and 2 years, whatever the number of forms
(the largest, a year by team, holds a cell per team and status).

The store keeps them exact: every insert or save of a form applies, in the same transaction,
``contribution(after) - contribution(before)`` with ``$inc`` (``apply``). ``readmodels`` recomputes
them from the forms: ``python -m resolution.readmodels``.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from typing import TypeAlias

from pymongo import ASCENDING, IndexModel
from pymongo.asynchronous.database import AsyncDatabase
from shared.mongo import Document, Indexes

from shared import rollups as counted

from .domain import FormStatus

ROLLUPS = "report_rollups"
#: ``b`` repeats the ``_id`` so a period is one indexed range (SecantusDB scans for a range on ``_id``).
INDEXES = [Indexes(ROLLUPS, [IndexModel([("b", ASCENDING)])]), counted.pending_indexes(ROLLUPS)]

#: The groupings of the counts report and the field of the form each one reads.
GROUP_FIELDS = {
    "theme": "theme_ids",
    "stage": "current_stage",
    "team": "team_id",
    "role": "owner_role",
    "month": "raised_month",
    "closing-reason": "closing_reason_id",
}
FINISHED = (FormStatus.RESOLVED.value, FormStatus.CLOSED_UNRESOLVED.value)
#: The fields of a form document the roll-ups read (the projection of the "before" document).
FIELDS = {"raised_at": 1, "raised_on": 1, "status": 1, "report": 1, **{f: 1 for f in GROUP_FIELDS.values()}}

#: (roll-up document id, dotted path) -> amount
Contribution: TypeAlias = counted.Contribution


def key(value: object) -> str:
    """A map key for any group value (None is the report's "uncoded")."""
    return counted.field("uncoded" if value is None else value)


unkey = counted.value


def raised_on(doc: Document) -> date:
    """The day a form is filed under: the day in England it was raised (``raised_on``), or for a
    form stored before it was kept, the UTC day of ``raised_at``, where that form's counts stand
    until a rebuild (``readmodels``) gives it its day in England."""
    if "raised_on" in doc:
        return date.fromisoformat(doc["raised_on"])
    raised: datetime = doc["raised_at"]
    return (raised if raised.tzinfo is None else raised.astimezone(UTC)).date()


def contribution(doc: Document | None) -> Contribution:
    """What one form document adds to the roll-ups (nothing for None: no form)."""
    out: Contribution = Counter()
    if doc is None:
        return out
    paths: Counter[str] = Counter()
    status = doc["status"]
    for group, field in GROUP_FIELDS.items():
        raw = doc.get(field)
        if group == "theme":
            values: Iterable[object] = raw if isinstance(raw, list) else ([] if raw is None else [raw])
        elif group == "closing-reason":
            values = [raw] if status == FormStatus.CLOSED_UNRESOLVED.value else []
        else:
            values = [raw]
        for value in values:
            paths[f"c.{group}.{key(value)}.{status}"] += 1
    report = doc.get("report") or {}
    for item in report.get("stage_days") or []:
        base = f"s.{key(item.get('stage'))}"
        paths[f"{base}.n"] += 1
        days = item.get("days")
        if isinstance(days, int):
            paths[f"{base}.d.k{days}"] += 1
        for short, name in (("w", "working_days"), ("r", "response_days")):
            value = item.get(name)
            if isinstance(value, int):
                paths[f"{base}.{short}"] += value
                paths[f"{base}.{short}n"] += 1
    if status in FINISHED:
        paths[f"f.{status}.n"] += 1
        days = report.get("days_to_finish")
        if isinstance(days, int):
            paths[f"f.{status}.d.k{days}"] += 1
    day = raised_on(doc)
    for bucket in (f"d|{day.isoformat()}", f"m|{day.isoformat()[:7]}", f"q|{day.year}-Q{(day.month - 1) // 3 + 1}", f"y|{day.year}"):
        for path, n in paths.items():
            out[(bucket, path)] += n
    return out


def fields(bucket: str) -> Document:
    """``b`` repeats the id, for the indexed range reads."""
    return {"b": bucket}


#: Every write's change, the fold before a report reads, the background folder, a rebuild's documents.
ROLLUP = counted.Rollups(ROLLUPS, contribution, fields)
delta, apply, apply_at_end, fold, folder, documents = ROLLUP.delta, ROLLUP.apply, ROLLUP.apply_at_end, ROLLUP.fold, ROLLUP.folder, ROLLUP.documents


# --- reading -----------------------------------------------------------------------------------


_next_month = counted.next_month


def _unit(day: date, end: date) -> tuple[str, date]:
    """The longest roll-up that starts on ``day`` and ends by ``end``: (its id, the day after it)."""
    if (day.month, day.day) == (1, 1) and date(day.year, 12, 31) <= end:
        return f"y|{day.year}", date(day.year + 1, 1, 1)
    if day.day == 1:
        month_after = _next_month(day)
        quarter_after = _next_month(_next_month(month_after))
        if day.month % 3 == 1 and quarter_after - timedelta(days=1) <= end:
            return f"q|{day.year}-Q{day.month // 3 + 1}", quarter_after
        if month_after - timedelta(days=1) <= end:
            return f"m|{day.isoformat()[:7]}", month_after
    return f"d|{day.isoformat()}", day + timedelta(days=1)


def ranges(start: date, end: date) -> list[tuple[str, str]]:
    """The roll-up ids covering ``start``..``end`` (inclusive), as inclusive ranges of ``b``: from
    each day the longest roll-up that fits (year, quarter, month or day), consecutive ones of a
    kind as one range. Three years are at most about 60 days, 8 months, 6 quarters and 2 years."""
    out: list[tuple[str, str]] = []
    day = start
    while day <= end:
        unit, day = _unit(day, end)
        if out and out[-1][1][0] == unit[0]:
            out[-1] = (out[-1][0], unit)
        else:
            out.append((unit, unit))
    return out


async def read(db: AsyncDatabase[Document], start: date, end: date, fields: list[str]) -> list[Document]:
    """The roll-up documents of the period (each read by an ``_id`` range), only ``fields``, once
    every pending change is folded in."""
    await fold(db)
    found = await asyncio.gather(
        *(db[ROLLUPS].find({"b": {"$gte": low, "$lte": high}}, {f: 1 for f in fields}).to_list() for low, high in ranges(start, end))
    )
    return [doc for docs in found for doc in docs]
