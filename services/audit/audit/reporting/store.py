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
