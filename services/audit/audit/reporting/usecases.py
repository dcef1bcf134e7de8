"""The reports: who may read them, and each report from the rows of its period (read by
``reporting.store``) counted by ``reporting.domain.figures``."""

from __future__ import annotations

from enum import StrEnum

from pymongo.asynchronous.database import AsyncDatabase
from shared.identity import Identity
from shared.mongo import Document

from ..common import directory
from ..common.errors import NotAllowed
from ..common.roles import REPORT_ROLES, Role
from ..cycles import store as cycle_store
from ..cycles.domain.timetable import Month
from . import store as report_store
from .domain import agreement as agreeing
from .domain import figures as reporting

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


async def completion(db: AsyncDatabase[Document], month: Month, by: GroupBy, tool_id: str | None) -> list[reporting.Completion]:
    rows = await report_store.rows_for_months(db, [month], tool_id)
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
    rows = await report_store.rows_for_team(db, team_id, first, last, tool_id)
    completed = sorted(r.audit_id for r in rows if r.completed)
    audits = await report_store.audits(db, completed)
    return reporting.team_review(team_id, [str(first.plus(i)) for i in range(6)], rows, audits)


async def moderation_agreement(
    db: AsyncDatabase[Document], months: list[Month], by: agreeing.By, weights: agreeing.Weights, item: str | None, tool_id: str | None,
) -> tuple[agreeing.AgreementReport, dict[str, str]]:
    """The agreement report of the audits of ``months``, and the names of its team groups."""
    pairings = await report_store.pairings_for_months(db, months, tool_id)
    found = agreeing.report(pairings, by, weights, item=item)
    names = await team_names(db, [g.group for g in found.groups], GroupBy.TEAM) if by is agreeing.By.TEAM else {}
    return found, names
