"""Routes for real-time reporting, for QA staff and senior managers. The resolution counts are also
served as a chart (issue 18): horizontal bars per group (per theme by default), each bar split by
where the forms are now (open, escalated, resolved, closed unresolved), as SVG (``?format=svg`` or
``Accept: image/svg+xml``) or PNG (``?format=png`` or ``Accept: image/png``)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel
from shared.app import RuntimeDep
from shared.errors import Problem, bad_cursor, forbidden
from shared.http import Page, Pagination, encode_cursor
from shared.identity import CurrentPerson, Identity

from shared import charts
from shared import report_formats as formats

from .. import reports, store
from ..domain import Stage
from ..domain.roles import OVERSIGHT_ROLES

router = APIRouter(prefix="/v1/reports", tags=["reports"])

MAX_PERIOD_DAYS = 3 * 366
From = Annotated[date, Query(alias="from", description="First day of the period (forms raised from this day)")]
To = Annotated[date, Query(alias="to", description="Last day of the period, inclusive")]


class CountRow(BaseModel):
    key: str
    label: str
    total: int
    open: int
    escalated: int
    resolved: int
    closed_unresolved: int


class CountsOut(BaseModel):
    group_by: reports.GroupBy
    start: date
    end: date
    rows: list[CountRow]
    truncated: bool


class StageDuration(BaseModel):
    stage: Stage
    title: str
    count: int
    average_days: float | None
    average_working_days: float | None
    average_response_days: float | None
    longest_days: int | None


class FinishDuration(BaseModel):
    count: int
    average_days: float | None
    longest_days: int | None


class DurationsOut(BaseModel):
    start: date
    end: date
    per_stage: list[StageDuration]
    to_resolution: FinishDuration
    to_closing_unresolved: FinishDuration


class ImpactRow(BaseModel):
    form_id: str
    case_id: str
    team_id: str
    owner_role: str
    theme_ids: list[str]
    stage: Stage
    raised_at: datetime
    resolved_at: datetime
    days_to_resolution: int | None
    impact: str | None


def _may_report(caller: Identity, start: date, end: date) -> None:
    if caller.roles.isdisjoint(OVERSIGHT_ROLES):
        raise forbidden("Reports are for QA staff, performance officers and senior managers.")
    if end < start:
        raise Problem(400, "bad-period", "Bad period", "The period's end ('to') is before its start ('from').")
    if (end - start).days > MAX_PERIOD_DAYS:
        raise Problem(400, "period-too-long", "Period too long", f"A report covers at most {MAX_PERIOD_DAYS} days.")


ChartFormat = Annotated[
    Literal["json", "svg", "png"] | None,
    Query(description="svg or png for the counts as a chart, horizontal bars per group (or send Accept: image/svg+xml, image/png)"),
]
CHART_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "JSON, or the counts as a chart (SVG, PNG) when asked", "content": formats.CHART_CONTENT},
}
#: The chart's series: where the forms of a group are now (the bars are stacked; their sum is the total).
CHART_SERIES = (("open", "Open"), ("escalated", "Escalated"), ("resolved", "Resolved"), ("closed_unresolved", "Closed unresolved"))


def counts_chart(out: CountsOut) -> charts.Chart:
    """Horizontal bars per group, most forms first, stacked by where the forms are now."""
    rows = sorted(out.rows, key=lambda r: (-r.total, r.label))
    of = out.group_by.value.replace("-", " ")
    return charts.horizontal_bar_chart(
        f"Resolutions raised {out.start.isoformat()} to {out.end.isoformat()}, by {of}", [r.label for r in rows],
        [charts.Series(title, [float(getattr(r, field)) for r in rows]) for field, title in CHART_SERIES],
        stacked=True, x_label="Resolutions", gid="resolutions",
        note="Only the first groups are shown (the report was truncated)." if out.truncated else "",
    )


@router.get(
    "/resolutions", response_model=CountsOut, responses=CHART_RESPONSES,
    summary="Open, escalated, resolved and closed-unresolved resolutions raised in a period, by a grouping",
)
async def resolution_counts(
    request: Request, caller: CurrentPerson, runtime: RuntimeDep, start: From, end: To,
    group_by: reports.GroupBy = reports.GroupBy.THEME, format: ChartFormat = None,
) -> CountsOut | Response:
    _may_report(caller, start, end)
    rows, truncated = await reports.counts(runtime.db, group_by, start, end)
    labels: dict[str, str] = {}
    if group_by is reports.GroupBy.THEME:
        labels = {k: t.name for k, t in (await store.THEME_LIST.by_id(runtime.db, [r["key"] for r in rows])).items()}
    elif group_by is reports.GroupBy.STAGE:
        labels = {s.value: s.title for s in Stage}
    elif group_by is reports.GroupBy.CLOSING_REASON:
        labels = {k: t.name for k, t in (await store.CLOSING_REASON_LIST.by_id(runtime.db, [r["key"] for r in rows])).items()}
    out = [
        CountRow(key=r["key"], label=labels.get(r["key"], r["key"]), total=r["total"], open=r["open"], escalated=r["escalated"],
                 resolved=r["resolved"], closed_unresolved=r["closed-unresolved"])
        for r in rows
    ]
    counted = CountsOut(group_by=group_by, start=start, end=end, rows=out, truncated=truncated)
    wanted = formats.wanted(request, format, ("svg", "png"))
    if wanted == "json":
        return counted
    return await formats.chart_response(counts_chart(counted), wanted, f"resolutions-{start.isoformat()}-{end.isoformat()}-{group_by.value}")


def _finish(doc: dict[str, Any] | None) -> FinishDuration:
    if doc is None:
        return FinishDuration(count=0, average_days=None, longest_days=None)
    return FinishDuration(count=doc["count"], average_days=_round(doc["average_days"]), longest_days=doc["longest_days"])


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


@router.get("/durations", response_model=DurationsOut, summary="Days taken per stage and to resolution, for resolutions raised in a period")
async def resolution_durations(caller: CurrentPerson, runtime: RuntimeDep, start: From, end: To) -> DurationsOut:
    _may_report(caller, start, end)
    found = await reports.durations(runtime.db, start, end)
    per_stage = sorted(
        (
            StageDuration(
                stage=Stage(d["_id"]), title=Stage(d["_id"]).title, count=d["count"], average_days=_round(d["average_days"]),
                average_working_days=_round(d["average_working_days"]), average_response_days=_round(d.get("average_response_days")),
                longest_days=d["longest_days"],
            )
            for d in found["per_stage"]
        ),
        key=lambda s: s.stage.rank,
    )
    return DurationsOut(
        start=start, end=end, per_stage=per_stage,
        to_resolution=_finish(found["finished"].get("resolved")), to_closing_unresolved=_finish(found["finished"].get("closed-unresolved")),
    )


@router.get("/impact", response_model=Page[ImpactRow], summary="Resolutions resolved in a period, with the impact recorded for the child")
async def resolution_impact(caller: CurrentPerson, runtime: RuntimeDep, page: Pagination, start: From, end: To) -> Page[ImpactRow]:
    _may_report(caller, start, end)
    after = None
    if page.cursor:
        try:
            after = (datetime.fromisoformat(page.cursor["at"]), str(page.cursor["id"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise bad_cursor() from exc
    docs = await reports.impacts(runtime.db, start, end, after=after, limit=page.limit + 1)
    items = []
    for d in docs[: page.limit]:
        # With several stages active, the stage whose resolution ended the form (the last recorded).
        yes = [s for s in d["stages"] if s["resolution"] and s["resolution"]["resolved"]]
        resolved = max(yes, key=lambda s: s["resolution"]["recorded_at"]) if yes else d["stages"][-1]
        items.append(
            ImpactRow(
                form_id=d["_id"], case_id=d["case_id"], team_id=d["team_id"], owner_role=d["owner_role"], theme_ids=d["theme_ids"],
                stage=resolved["stage"], raised_at=d["raised_at"], resolved_at=d["finished_at"],
                days_to_resolution=d["report"]["days_to_finish"], impact=(resolved["resolution"] or {}).get("impact"),
            )
        )
    nxt = None
    if len(docs) > page.limit:
        last = docs[page.limit - 1]
        nxt = encode_cursor({"at": last["finished_at"].isoformat(), "id": last["_id"]})
    return Page(items=items, next=nxt)
