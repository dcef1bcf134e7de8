"""The reports: who may read them, and each report from the roll-ups of its period (read by
``reporting.store``, summed by ``reporting.domain.rollups``; the team review from its team's
audits, counted by ``reporting.domain.figures``)."""

from __future__ import annotations

from enum import StrEnum

from pymongo.asynchronous.database import AsyncDatabase
from shared.identity import Identity
from shared.mongo import Document

from ..common.errors import NotAllowed
from ..common.roles import REPORT_ROLES, Role
from ..cycles import store as cycle_store
from ..cycles.domain.timetable import Month
from . import store as report_store
from .domain import agreement as agreeing
from .domain import figures as reporting
from .domain import rollups as counting
from .gc_pause import gc_paused

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
    counts = await report_store.completion_counts(db, month, tool_id)
    teams = await report_store.teams(db, [team for team, _, c in counts if c.n > 0]) if by is not GroupBy.TEAM else {}

    def group_of(team_id: str) -> str:
        if by is GroupBy.TEAM:
            return team_id or UNKNOWN
        team = teams.get(team_id) or {}
        return str(team.get(by.value) or UNKNOWN)

    return counting.completion(counts, group_of, await cycle_store.dispensed_people(db, month))


async def team_names(db: AsyncDatabase[Document], groups: list[str], by: GroupBy) -> dict[str, str]:
    if by is not GroupBy.TEAM:
        return {}
    return {k: str(v.get("name") or k) for k, v in (await report_store.teams(db, groups)).items()}


async def grades(db: AsyncDatabase[Document], months: list[Month], tool_id: str | None) -> tuple[int, dict[str, int], list[reporting.Theme]]:
    """Completed audits of ``months``, their grades of record and the themes."""
    points = await report_store.trend_points(db, months, tool_id)
    completed = sum(p.completed for p in points)
    counts: dict[str, int] = {g: sum(p.grades[g] for p in points) for g in points[0].grades} if points else {}
    themes = counting.themes(await report_store.theme_counts(db, months, tool_id), completed) if completed else []
    return completed, counts, themes


async def trend(db: AsyncDatabase[Document], months: list[Month], tool_id: str | None) -> list[reporting.TrendPoint]:
    return await report_store.trend_points(db, months, tool_id)


async def team_review(db: AsyncDatabase[Document], team_id: str, last: Month, tool_id: str | None) -> reporting.TeamReview:
    """The six months ending with ``last``."""
    first = last.plus(-5)
    rows = await report_store.rows_for_team(db, team_id, first, last, tool_id)
    completed = sorted(r.audit_id for r in rows if r.completed)
    audits = await report_store.audits(db, completed)
    return reporting.team_review(team_id, [str(first.plus(i)) for i in range(6)], rows, audits)


async def moderation_agreement(
    db: AsyncDatabase[Document], months: list[Month], by: agreeing.By, weights: agreeing.Weights, item: str | None, tool_id: str | None,
) -> tuple[counting.AgreementFigures, dict[str, str]]:
    """The agreement report of the audits of ``months`` (``.report()``: as ``agreement.AgreementReport``),
    and the names of its team groups: summed from the agreement roll-ups of the fewest whole years,
    quarters and months of the period."""
    names = [str(m) for m in months]
    periods = counting.cover(names)
    # The total (and the groups of sub-sections, months and quarters) from the ``all`` dimension.
    sections = by is agreeing.By.SUB_SECTION
    wanted = item if item is not None or sections else counting.EVERY_ITEM
    over_time = by in (agreeing.By.MONTH, agreeing.By.QUARTER)
    every_dims, dim = counting.agreement_dims(by, item)
    every = [
        doc for every_dim in every_dims
        for doc in await report_store.agreement_counts(db, names if over_time else periods, every_dim, wanted, tool_id, titles=sections)
    ]
    of_dim = await report_store.agreement_counts(db, periods, dim, wanted, tool_id) if dim else []
    with gc_paused():
        report = counting.agreement_from_rollups(every, of_dim, by, weights, item)
    shown = await team_names(db, report.groups[:-1], GroupBy.TEAM) if by is agreeing.By.TEAM else {}
    return report, shown
