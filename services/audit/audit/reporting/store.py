"""The reports' queries. The completion, grades, trend and moderation agreement reports read the
roll-ups of their period (``reporting.rollups``, through the index on (kind, dim, period, tool),
once the changes still pending are folded in): a
number of small documents proportional to the groups they show, not to the audits behind them.
The team review reads one team's few audits through the index on (team, month). Never a
collection scan."""

from __future__ import annotations

from typing import Any

from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase
from shared.mongo import Document

from ..case_audit import store
from ..case_audit.domain.audit import Audit
from ..common import directory
from ..cycles.domain.timetable import Month
from .domain import agreement as agreeing
from .domain import figures as reporting
from .domain import rollups as counting
from .rollups import ROLLUPS, fold

_FIELDS = {"month": 1, "team_id": 1, "auditor_id": 1, "status": 1, "submitted": 1, "grade": 1, "weak_sections": 1, "no_answers": 1}


def _tool(query: dict[str, Any], tool_id: str | None) -> dict[str, Any]:
    if tool_id is not None:
        query["tool_id"] = tool_id
    return query


# --- the audits themselves: the team review, and the figures the roll-ups are checked against ----


async def rows_for_months(db: AsyncDatabase[Document], months: list[Month], tool_id: str | None) -> list[reporting.Row]:
    names = [str(m) for m in months]
    query = _tool({"month": names[0] if len(names) == 1 else {"$in": names}}, tool_id)
    return [reporting.Row.from_document(d) for d in await db[store.AUDITS].find(query, _FIELDS).to_list()]


async def rows_for_team(db: AsyncDatabase[Document], team_id: str, first: Month, last: Month, tool_id: str | None) -> list[reporting.Row]:
    query = _tool({"team_id": team_id, "month": {"$gte": str(first), "$lt": str(last.plus(1))}}, tool_id)
    return [reporting.Row.from_document(d) for d in await db[store.AUDITS].find(query, _FIELDS).to_list()]


async def audits(db: AsyncDatabase[Document], audit_ids: list[str]) -> list[Audit]:
    """The audits themselves (for what the rows do not carry), in the order of ``audit_ids``' query."""
    docs = await db[store.AUDITS].find({"_id": {"$in": audit_ids}}).to_list() if audit_ids else []
    return [store.from_document(d) for d in docs]


_PAIRING_FIELDS = {"month": 1, "team_id": 1, "auditor_id": 1, "agreement": 1}


async def pairings_for_months(db: AsyncDatabase[Document], months: list[Month], tool_id: str | None) -> list[agreeing.Pairing]:
    """The paired grades of the audits of ``months`` completed so far (the month index bounds the
    read). An audit saved before its document kept the paired grades is read whole instead."""
    names = [str(m) for m in months]
    query = _tool({"month": names[0] if len(names) == 1 else {"$in": names}, "status": "completed"}, tool_id)
    found: list[agreeing.Pairing] = []
    older: list[str] = []
    for doc in await db[store.AUDITS].find(query, _PAIRING_FIELDS).to_list():
        if "agreement" not in doc:
            older.append(doc["_id"])
        elif doc["agreement"] is not None:
            found.append(agreeing.Pairing.from_facts(
                audit_id=doc["_id"], month=doc.get("month") or "", team_id=doc.get("team_id") or "", auditor_id=doc.get("auditor_id") or "",
                facts=doc["agreement"],
            ))
    found += [p for audit in await audits(db, older) if (p := agreeing.pairing(audit)) is not None]
    return found


# --- the roll-ups ---------------------------------------------------------------------------------


def _rollups(kind: str, periods: list[str], tool_id: str | None, *, dim: str = "") -> dict[str, Any]:
    query: dict[str, Any] = {"kind": kind, "dim": dim, "period": periods[0] if len(periods) == 1 else {"$in": sorted(set(periods))}}
    return _tool(query, tool_id)


async def completion_counts(db: AsyncDatabase[Document], month: Month, tool_id: str | None) -> list[tuple[str, str, counting.CompletionCounts]]:
    """(team, auditor, counts) of the audits allocated for ``month``."""
    await fold(db)
    return counting.completion_counts(await db[ROLLUPS].find(_rollups(counting.COMPLETION, [str(month)], tool_id), {"t": 1}).to_list())


async def trend_points(db: AsyncDatabase[Document], months: list[Month], tool_id: str | None) -> list[reporting.TrendPoint]:
    """Audits, completed audits and grades of record per month (every month of ``months``)."""
    names = [str(m) for m in months]
    await fold(db)
    # The months named (at most 60), not a range: the embedded store's index scan leaves out the
    # last month of an inclusive range on this index (a bound on a field that others follow).
    query = _rollups(counting.MONTH, names, tool_id)
    found: dict[str, tuple[int, int, dict[str, int]]] = {m: (0, 0, {}) for m in names}
    for doc in await db[ROLLUPS].find(query, {"period": 1, "n": 1, "d": 1, "g": 1}).to_list():
        if doc["period"] in found:
            n, d, grades = found[doc["period"]]
            for g, count in (doc.get("g") or {}).items():
                grades[g] = grades.get(g, 0) + int(count)
            found[doc["period"]] = (n + int(doc.get("n", 0)), d + int(doc.get("d", 0)), grades)
    return [counting.trend_point(m, n, d, grades) for m, (n, d, grades) in found.items()]


async def theme_counts(db: AsyncDatabase[Document], months: list[Month], tool_id: str | None) -> dict[tuple[str, str, str], int]:
    """(section or question, key, title) -> completed audits of ``months`` naming it."""
    counts: dict[tuple[str, str, str], int] = {}
    await fold(db)
    for doc in await db[ROLLUPS].find(_rollups(counting.THEME, [str(m) for m in months], tool_id), {"group": 1, "sub": 1, "title": 1, "n": 1}).to_list():
        theme = (doc["group"], doc["sub"], doc["title"])
        counts[theme] = counts.get(theme, 0) + int(doc.get("n", 0))
    return counts


async def agreement_counts(db: AsyncDatabase[Document], periods: list[str], dim: str, item: str | None, tool_id: str | None, *, titles: bool = False) -> list[Document]:
    """The agreement roll-ups of ``dim`` for ``periods``: each with ``period`` and ``i`` (per item,
    its groups' counts: only ``item``'s, every item's when None), and with ``titles`` the items'
    titles ``t``."""
    query = _rollups(counting.AGREEMENT, periods, tool_id, dim=dim)
    await fold(db)
    if not dim.endswith(counting.ITEMS):
        # A pooled roll-up holds every item's counts together and little else: read whole. A
        # projection keeping nearly all of it costs the embedded store twice the time of none (a
        # year's 64 pair roll-ups, 400 KB: ~43 ms of its CPU, against ~21).
        return await db[ROLLUPS].find(query).to_list()
    fields: dict[str, Any] = {"period": 1, "i" if item is None else f"i.{counting.field_name(item)}": 1}
    if titles:
        fields["t"] = 1
    return await db[ROLLUPS].find(query, fields).to_list()


#: Up to this many team ids are looked up by id; more are read as one range of the directory's
#: teams (an ``$in`` of hundreds of ids costs far more on the embedded store than the range).
_FEW_TEAMS = 32


async def teams(db: AsyncDatabase[Document], team_ids: list[str]) -> dict[str, Document]:
    """The directory's teams of ``team_ids`` (name, district, area), as ``directory.teams_by_id``."""
    wanted = sorted({t for t in team_ids if t})
    if len(wanted) <= _FEW_TEAMS:
        return await directory.teams_by_id(db, wanted) if wanted else {}
    query = {"_id": {"$gte": wanted[0], "$lte": wanted[-1]}}
    # The _id index named: the embedded store's planner would scan the collection for a range of _id.
    docs = await db[directory.TEAMS].find(query, {"name": 1, "district": 1, "area": 1}).hint([("_id", ASCENDING)]).to_list()
    chosen = set(wanted)
    return {d["_id"]: d for d in docs if d["_id"] in chosen}
