"""Real-time reporting over the forms as they are now: counts by theme, stage reached, team,
raiser's role and month; days taken per stage and to resolution; the impact recorded.

The counts and the durations read the roll-ups of the period's days, months, quarters and years
(``rollups``: a few documents per period, however many forms it holds); a group-by answers at
most ``MAX_GROUPS`` groups. The impact list reads one page of resolved forms, by the index on
their ``resolved_key`` (when resolved, then id). A period is of days in England.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase
from shared.calendar import start_of
from shared.keyset import page_by_windows
from shared.mongo import Document

from . import rollups, store
from .domain import FormStatus
from .store import FORMS

MAX_GROUPS = 500


class GroupBy(StrEnum):
    THEME = "theme"
    STAGE = "stage"
    TEAM = "team"
    ROLE = "role"
    MONTH = "month"
    #: How forms closed unresolved ended: their coded closing reason (forms still open or resolved are not counted).
    CLOSING_REASON = "closing-reason"


def period(start: date, end: date) -> dict[str, datetime]:
    """From the start of ``start`` to the end of ``end``, days in England."""
    return {"$gte": start_of(start), "$lt": start_of(end + timedelta(days=1))}


async def counts(db: AsyncDatabase[Document], group_by: GroupBy, start: date, end: date) -> tuple[list[dict[str, Any]], bool]:
    """Forms raised in the period per group and status: (rows, truncated). From the roll-ups of the
    period's days, months, quarters and years (``rollups``), the first ``MAX_GROUPS`` groups in key order."""
    rows: dict[str, dict[str, Any]] = {}
    for doc in await rollups.read(db, start, end, [f"c.{group_by.value}"]):
        for stored, by_status in ((doc.get("c") or {}).get(group_by.value) or {}).items():
            name = rollups.unkey(stored)
            for status, n in by_status.items():
                if n:
                    row = rows.setdefault(name, {"key": name, "total": 0, **{s.value: 0 for s in FormStatus}})
                    row[status] += n
                    row["total"] += n
    ordered = sorted((r for r in rows.values() if r["total"]), key=lambda r: r["key"])
    return ordered[:MAX_GROUPS], len(ordered) > MAX_GROUPS


def _histogram(found: dict[str, int], into: dict[int, int]) -> None:
    for stored, n in found.items():
        into[int(stored[1:])] = into.get(int(stored[1:]), 0) + n


def _days(histogram: dict[int, int]) -> tuple[float | None, int | None]:
    """(average, longest) of a histogram of whole days."""
    counted = {d: n for d, n in histogram.items() if n}
    if not counted:
        return None, None
    return sum(d * n for d, n in counted.items()) / sum(counted.values()), max(counted)


async def durations(db: AsyncDatabase[Document], start: date, end: date) -> dict[str, Any]:
    """Average days per stage (of stages that ended) and to resolution, for forms raised in the
    period. From the roll-ups (``rollups``): averages from sums and counts, the longest from a
    histogram of whole days, so every figure is what the forms themselves give."""
    stages: dict[str, dict[str, Any]] = {}
    finished: dict[str, dict[str, Any]] = {}
    for doc in await rollups.read(db, start, end, ["s", "f"]):
        for stored, found in (doc.get("s") or {}).items():
            into = stages.setdefault(rollups.unkey(stored), {"n": 0, "d": {}, "w": 0, "wn": 0, "r": 0, "rn": 0})
            for field in ("n", "w", "wn", "r", "rn"):
                into[field] += found.get(field, 0)
            _histogram(found.get("d") or {}, into["d"])
        for status, found in (doc.get("f") or {}).items():
            into = finished.setdefault(status, {"n": 0, "d": {}})
            into["n"] += found.get("n", 0)
            _histogram(found.get("d") or {}, into["d"])
    per_stage = []
    for stage, s in stages.items():
        if s["n"]:
            average, longest = _days(s["d"])
            per_stage.append({
                "_id": stage, "count": s["n"], "average_days": average, "longest_days": longest,
                "average_working_days": s["w"] / s["wn"] if s["wn"] else None,
                "average_response_days": s["r"] / s["rn"] if s["rn"] else None,
            })
    done = {}
    for status, f in finished.items():
        if f["n"]:
            average, longest = _days(f["d"])
            done[status] = {"_id": status, "count": f["n"], "average_days": average, "longest_days": longest}
    return {"per_stage": per_stage, "finished": done}


async def impacts(db: AsyncDatabase[Document], start: date, end: date, *, after: tuple[datetime, str] | None, limit: int) -> list[Document]:
    """Resolved forms, by the date they were resolved, with the impact recorded for the child: one
    range of the ``resolved_key`` index (when resolved, then id), read in windows until the page is full."""
    low = store.resolved_key(start_of(start), "")
    if after is not None:
        low = max(low, store.resolved_key(*after))
    high = store.resolved_key(start_of(end + timedelta(days=1)), "")
    projection = {"case_id": 1, "team_id": 1, "owner_role": 1, "theme_ids": 1, "finished_at": 1, "raised_at": 1, "stages": 1, "report": 1}
    return await page_by_windows(db[FORMS], "resolved_key", "", low, high, projection, limit)
