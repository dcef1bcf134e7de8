"""The reports' queries: each reads the report facts of the audits in its period through an
index on (month, team) or (team, month), never a collection scan, then counts them with
``domain.reporting``. The cost follows the audits in the period, not the years of history.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase
from shared.identity import Identity
from shared.mongo import Document

from ..case_audit import store
from ..common import directory
from ..common.errors import NotAllowed
from ..common.roles import REPORT_ROLES, Role
from ..cycles import store as cycle_store
from ..cycles.domain.timetable import Month
from .domain import figures as reporting

_FIELDS = {"month": 1, "team_id": 1, "auditor_id": 1, "status": 1, "submitted": 1, "grade": 1, "weak_sections": 1, "no_answers": 1}
UNKNOWN = "(unknown)"


class GroupBy(StrEnum):
    AREA = "area"
    DISTRICT = "district"
    TEAM = "team"


def may_read_reports(caller: Identity) -> None:
    if REPORT_ROLES.isdisjoint(caller.roles):
        raise NotAllowed("Audit reports are for the performance unit, QA staff and operational managers.")


def may_read_team_review(caller: Identity, team_id: str) -> None:
    """The team's own manager reads its review pack too (Hillingdon 6.3)."""
    if REPORT_ROLES.isdisjoint(caller.roles) and not (caller.has_role(Role.TEAM_MANAGER) and caller.in_team(team_id)):
        raise NotAllowed("A team's review pack is for its team manager, the performance unit, QA staff and operational managers.")


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


async def completion(db: AsyncDatabase[Document], month: Month, by: GroupBy, tool_id: str | None) -> list[reporting.Completion]:
    rows = await rows_for_months(db, [month], tool_id)
    teams = await directory.teams_by_id(db, [r.team_id for r in rows])

    def group_of(row: reporting.Row) -> str:
        if by is GroupBy.TEAM:
            return row.team_id or UNKNOWN
        team = teams.get(row.team_id) or {}
        return str(team.get(by.value) or UNKNOWN)

    return reporting.completion(rows, group_of, await cycle_store.dispensed_people(db, month))


async def team_names(db: AsyncDatabase[Document], groups: list[str], by: GroupBy) -> dict[str, str]:
    if by is not GroupBy.TEAM:
        return {}
    return {k: str(v.get("name") or k) for k, v in (await directory.teams_by_id(db, groups)).items()}


async def team_review(db: AsyncDatabase[Document], team_id: str, last: Month, tool_id: str | None) -> reporting.TeamReview:
    """The six months ending with ``last``."""
    first = last.plus(-5)
    rows = await rows_for_team(db, team_id, first, last, tool_id)
    completed = sorted(r.audit_id for r in rows if r.completed)
    docs = await db[store.AUDITS].find({"_id": {"$in": completed}}).to_list() if completed else []
    audits = [store.from_document(d) for d in docs]
    return reporting.team_review(team_id, [str(first.plus(i)) for i in range(6)], rows, audits)
