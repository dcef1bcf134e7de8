"""The reports' queries: each reads the report facts of the audits in its period through an
index on (month, team) or (team, month), never a collection scan. The cost follows the audits in
the period, not the years of history."""

from __future__ import annotations

from typing import Any

from pymongo.asynchronous.database import AsyncDatabase
from shared.mongo import Document

from ..case_audit import store
from ..case_audit.domain.audit import Audit
from ..cycles.domain.timetable import Month
from .domain import agreement as agreeing
from .domain import figures as reporting

_FIELDS = {"month": 1, "team_id": 1, "auditor_id": 1, "status": 1, "submitted": 1, "grade": 1, "weak_sections": 1, "no_answers": 1}


def _tool(query: dict[str, Any], tool_id: str | None) -> dict[str, Any]:
    if tool_id is not None:
        query["tool_id"] = tool_id
    return query


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
