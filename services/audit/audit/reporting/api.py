"""HTTP routes for the audit reports (Kent 4.2 and 5, Hillingdon 5.2.5 and 6): completion rates,
grade distributions and themes, the trend over months, the six-monthly team review pack, and the
moderation agreement of auditors and peer reviewers (issue 18).
JSON by default; CSV for the performance unit with ``Accept: text/csv`` or ``?format=csv``; the
grades, completion, trend and moderation agreement reports also as a chart, SVG (``Accept:
image/svg+xml`` or ``?format=svg``) or PNG (``Accept: image/png`` or ``?format=png``), and the
moderation agreement report as a PDF (``Accept: application/pdf`` or ``?format=pdf``) with its
chart and its table."""

from __future__ import annotations

import asyncio
import csv
import io
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field
from pydantic_core import to_json
from shared.app import RuntimeDep
from shared.disposition import attachment
from shared.errors import Problem
from shared.identity import CurrentPerson

from shared import charts as charting
from shared import report_formats as formats

from ..cycles.domain.timetable import Month, months_between, period_months
from . import charts
from . import pdf as report_pdf
from . import usecases as reports
from .domain import agreement as agreeing
from .domain import rollups as counting
from .domain.figures import Completion, Theme
from .gc_pause import gc_paused

router = APIRouter(prefix="/v1/reports", tags=["audit reports"])

MONTH = r"^(19|2[0-9])[0-9]{2}-(0[1-9]|1[0-2])$"
MAX_TREND_MONTHS = 60
Format = Annotated[Literal["json", "csv"] | None, Query(description="csv for the performance unit (or send Accept: text/csv)")]
ToolFilter = Annotated[str | None, Query(max_length=64, description="Only this programme's tool")]
CSV = {200: {"content": {"text/csv": {}}, "description": "JSON, or CSV when asked"}, 403: {"description": "Not a reader of reports"}}
ChartFormat = Annotated[
    Literal["json", "csv", "svg", "png"] | None,
    Query(description="csv for the performance unit (or send Accept: text/csv); svg or png for the report as a chart (or Accept: image/svg+xml, image/png)"),
]
AgreementFormat = Annotated[
    Literal["json", "csv", "svg", "png", "pdf"] | None,
    Query(description="csv (or Accept: text/csv); svg or png for the agreement-over-time chart (or Accept: image/svg+xml, image/png); "
                      "pdf for the report as a document, the chart and the table (or Accept: application/pdf)"),
]
CHARTS: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/csv": {}, **formats.CHART_CONTENT}, "description": "JSON, or CSV or a chart (SVG, PNG) when asked"},
    403: {"description": "Not a reader of reports"},
}
AGREEMENT: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {"text/csv": {}, **formats.CHART_CONTENT, "application/pdf": {}},
        "description": "JSON, or CSV, a chart (SVG, PNG) or a PDF when asked",
    },
    403: {"description": "Not a reader of reports"},
}
TABLE_OR_CHART = ("csv", "svg", "png")


def _csv(request: Request, fmt: str | None) -> bool:
    return formats.wanted(request, fmt, ("csv",)) == "csv"


def _csv_response(rows: list[dict[str, Any]], filename: str) -> Response:
    out = io.StringIO()
    if rows:
        writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return Response(out.getvalue(), media_type="text/csv; charset=utf-8", headers={"Content-Disposition": attachment(filename)})


class CompletionRow(BaseModel):
    group: str
    name: str
    allocated: int
    submitted: int
    completed: int
    dispensed: int = Field(description="Auditors excused for a dispensation (left out of the rates)")
    completion_rate: float | None
    submission_rate: float | None


class CompletionReport(BaseModel):
    month: str
    by: reports.GroupBy
    tool_id: str | None
    rows: list[CompletionRow]
    total: CompletionRow


class ThemeOut(BaseModel):
    kind: str = Field(description="section (graded requires improvement or worse) or question (answered no)")
    key: str
    title: str
    audits: int
    share: float


class GradesReport(BaseModel):
    period: str
    months: list[str]
    tool_id: str | None
    completed: int
    grades: dict[str, int]
    themes: list[ThemeOut]


class TrendPointOut(BaseModel):
    month: str
    allocated: int
    completed: int
    completion_rate: float | None
    grades: dict[str, int]


class TrendReport(BaseModel):
    tool_id: str | None
    points: list[TrendPointOut]


class ActionOut(BaseModel):
    audit_id: str
    month: str
    source: str
    action: str
    owner: str | None
    due: str | None
    status: str | None


class TeamReviewReport(BaseModel):
    team_id: str
    months: list[str]
    audits: int
    completed: int
    grades: dict[str, int]
    common_issues: list[ThemeOut]
    actions: list[ActionOut]


def _row(c: Completion, name: str) -> CompletionRow:
    return CompletionRow(name=name, **c.__dict__)


def _theme(t: Theme) -> ThemeOut:
    return ThemeOut(**t.__dict__)


def _month(value: str, field: str) -> Month:
    try:
        return Month.parse(value)
    except ValueError as exc:
        raise Problem(422, "bad-month", "Not a month", f"{field}: {exc}") from exc


@router.get("/completion", response_model=CompletionReport, summary="Completion rates for a month by area, district or team", responses=CHARTS)
async def completion_report(
    request: Request, caller: CurrentPerson, runtime: RuntimeDep,
    month: Annotated[str, Query(pattern=MONTH)],
    by: reports.GroupBy = reports.GroupBy.TEAM, tool_id: ToolFilter = None, format: ChartFormat = None,
) -> CompletionReport | Response:
    reports.may_read_reports(caller)
    found = await reports.completion(runtime.db, _month(month, "month"), by, tool_id)
    names = await reports.team_names(runtime.db, [c.group for c in found], by)
    rows = [_row(c, names.get(c.group, c.group)) for c in found]
    allocated, dispensed = sum(r.allocated for r in rows), sum(r.dispensed for r in rows)
    completed, submitted = sum(r.completed for r in rows), sum(r.submitted for r in rows)
    counted = allocated - dispensed
    total = CompletionRow(
        group="(all)", name="All", allocated=allocated, submitted=submitted, completed=completed, dispensed=dispensed,
        completion_rate=round(completed / counted, 4) if counted else None, submission_rate=round(submitted / counted, 4) if counted else None,
    )
    wanted = formats.wanted(request, format, TABLE_OR_CHART)
    if wanted == "csv":
        return _csv_response([{"month": month, "by": by.value, **r.model_dump()} for r in [*rows, total]], f"audit-completion-{month}-{by.value}.csv")
    if wanted in ("svg", "png"):
        chart = charts.completion([r.name for r in rows], [r.completion_rate for r in rows], f"Audits completed in {month}, by {by.value}")
        return await formats.chart_response(chart, wanted, f"audit-completion-{month}-{by.value}")
    return CompletionReport(month=month, by=by, tool_id=tool_id, rows=rows, total=total)


@router.get("/grades", response_model=GradesReport, summary="Grade distribution (counts per grade) and themes for a month or a quarter", responses=CHARTS)
async def grades_report(
    request: Request, caller: CurrentPerson, runtime: RuntimeDep,
    period: Annotated[str, Query(pattern=r"^(19|2[0-9])[0-9]{2}-((0[1-9]|1[0-2])|Q[1-4])$", description="A month (2026-11) or a calendar quarter (2026-Q4)")],
    tool_id: ToolFilter = None, format: ChartFormat = None,
) -> GradesReport | Response:
    reports.may_read_reports(caller)
    months = period_months(period)
    completed, grades, themes = await reports.grades(runtime.db, months, tool_id)
    report = GradesReport(
        period=period, months=[str(m) for m in months], tool_id=tool_id, completed=completed, grades=grades, themes=[_theme(t) for t in themes],
    )
    wanted = formats.wanted(request, format, TABLE_OR_CHART)
    if wanted in ("svg", "png"):
        return await formats.chart_response(charts.grades(report.grades, f"Grades of the audits completed in {period}"), wanted, f"audit-grades-{period}")
    if wanted == "csv":
        lines = [{"period": period, "kind": "grade", "key": g, "title": g, "audits": n, "share": ""} for g, n in report.grades.items()]
        lines += [{"period": period, "kind": t.kind, "key": t.key, "title": t.title, "audits": t.audits, "share": t.share} for t in report.themes]
        return _csv_response(lines, f"audit-grades-{period}.csv")
    return report


@router.get("/trend", response_model=TrendReport, summary="Completion and grades month by month", responses=CHARTS)
async def trend_report(
    request: Request, caller: CurrentPerson, runtime: RuntimeDep,
    from_month: Annotated[str, Query(alias="from", pattern=MONTH)], to_month: Annotated[str, Query(alias="to", pattern=MONTH)],
    tool_id: ToolFilter = None, format: ChartFormat = None,
) -> TrendReport | Response:
    reports.may_read_reports(caller)
    months = months_between(_month(from_month, "from"), _month(to_month, "to"))
    if not months or len(months) > MAX_TREND_MONTHS:
        raise Problem(422, "bad-range", "Bad range", f"'from' must not be after 'to', and the range at most {MAX_TREND_MONTHS} months.")
    points = [TrendPointOut(**p.__dict__) for p in await reports.trend(runtime.db, months, tool_id)]
    wanted = formats.wanted(request, format, TABLE_OR_CHART)
    if wanted in ("svg", "png"):
        chart = charts.trend([p.month for p in points], [p.completion_rate for p in points], [p.completed for p in points], f"Audits completed, {from_month} to {to_month}")
        return await formats.chart_response(chart, wanted, f"audit-trend-{from_month}-{to_month}")
    if wanted == "csv":
        return _csv_response(
            [{"month": p.month, "allocated": p.allocated, "completed": p.completed, "completion_rate": p.completion_rate, **p.grades} for p in points],
            f"audit-trend-{from_month}-{to_month}.csv",
        )
    return TrendReport(tool_id=tool_id, points=points)


@router.get("/team-review", response_model=TeamReviewReport, summary="The six-monthly team review pack: grades, common issues, actions", responses=CSV)  # type: ignore[arg-type]
async def team_review_report(
    request: Request, caller: CurrentPerson, runtime: RuntimeDep,
    team_id: Annotated[str, Query(min_length=1, max_length=64)],
    to: Annotated[str, Query(pattern=MONTH, description="The last month of the six")],
    tool_id: ToolFilter = None, format: Format = None,
) -> TeamReviewReport | Response:
    reports.may_read_team_review(caller, team_id)
    pack = await reports.team_review(runtime.db, team_id, _month(to, "to"), tool_id)
    report = TeamReviewReport(
        team_id=pack.team_id, months=pack.months, audits=pack.audits, completed=pack.completed, grades=pack.grades,
        common_issues=[_theme(t) for t in pack.common_issues], actions=[ActionOut(**a.__dict__) for a in pack.actions],
    )
    if _csv(request, format):
        lines: list[dict[str, Any]] = [{"section": "grade", "key": g, "text": g, "count": n, "owner": "", "due": "", "audit_id": ""} for g, n in report.grades.items()]
        lines += [{"section": f"issue:{t.kind}", "key": t.key, "text": t.title, "count": t.audits, "owner": "", "due": "", "audit_id": ""} for t in report.common_issues]
        lines += [{"section": f"action:{a.source}", "key": a.month, "text": a.action, "count": "", "owner": a.owner or "", "due": a.due or "", "audit_id": a.audit_id} for a in report.actions]
        return _csv_response(lines, f"team-review-{team_id}-{to}.csv")
    return report


# --- moderation agreement (issue 18) ------------------------------------------------------------

AGREEMENT_PERIOD = r"^(19|2[0-9])[0-9]{2}(-((0[1-9]|1[0-2])|Q[1-4]))?$"


class AgreementOut(BaseModel):
    weights: agreeing.Weights
    pairs: int = Field(description="Paired ratings: items both the auditor and the peer reviewer graded")
    agreed: int = Field(description="Pairs with the same grade")
    raw_agreement: float | None = Field(description="agreed / pairs; null for a small sample")
    kappa: float | None = Field(description="Weighted Cohen's kappa; null for a small sample or when undefined")
    standard_error: float | None = Field(description="Asymptotic standard error of kappa")
    ci_low: float | None = Field(description="95% confidence interval of kappa, lower limit")
    ci_high: float | None = Field(description="95% confidence interval of kappa, upper limit")
    small_sample: bool = Field(description="Fewer paired ratings than min_pairs: counts only, no rate and no kappa")
    kappa_status: agreeing.KappaStatus
    confusion: dict[str, dict[str, int]] = Field(description="Auditor's grade -> peer reviewer's grade -> pairs (every grade of the scale)")


class MovementOut(BaseModel):
    raised: int = Field(description="Moderated grade better than this party's")
    lowered: int = Field(description="Moderated grade worse than this party's")
    unchanged: int


class ModerationOut(BaseModel):
    audits: int = Field(description="Completed, peer-reviewed audits of the group")
    moderated: int = Field(description="Of them, audits that needed moderation")
    escalated: int = Field(description="Of them, moderations escalated to a practice development officer")
    moderation_rate: float | None
    moderated_items: int = Field(description="Paired items with a moderated grade")
    from_auditor: MovementOut
    from_peer_reviewer: MovementOut


class AgreementRow(BaseModel):
    group: str
    name: str
    agreement: AgreementOut
    moderation: ModerationOut


class AgreementReport(BaseModel):
    period: str
    months: list[str]
    by: agreeing.By
    weights: agreeing.Weights
    item: str | None
    tool_id: str | None
    min_pairs: int = Field(description="Below this many paired ratings a group is a small sample")
    scale: list[str] = Field(description="The ordinal grading scale, best first (the confusion matrix's order)")
    rows: list[AgreementRow]
    total: AgreementRow


def _agreement_months(period: str) -> list[Month]:
    if len(period) == 4:
        first = _month(f"{period}-01", "period")
        return [first.plus(i) for i in range(12)]
    return period_months(period)


def _agreement_rows(found: counting.AgreementFigures, names: dict[str, str]) -> list[dict[str, Any]]:
    """Each row of the report, the total last, as ``AgreementRow`` writes it, built directly as
    JSON-ready values: a report by pair has thousands of rows, and a model of each, built and
    validated, cost far more than the figures (a unit test checks that the JSON is the model's).
    Rows with the same counts share their ``agreement`` and ``moderation`` parts: a year's pairs
    (4,700) have a few hundred distinct confusion matrices."""
    scale = [s.value for s in agreeing.SCALE]
    n = len(scale)
    last = len(found.groups) - 1
    agreements: dict[Any, dict[str, Any]] = {}
    moderations: dict[Any, dict[str, Any]] = {}
    rows = []
    for at, (group, title, counts, rate, kappa) in enumerate(zip(found.groups, found.titles, found.counts, found.moderation_rates, found.kappas, strict=True)):
        if (agreement := agreements.get((tuple(counts[10:]), kappa))) is None:
            pairs, agreed = counts[10:12]
            status, raw, value, se, low, high = kappa
            agreement = agreements[tuple(counts[10:]), kappa] = {
                "weights": found.weights.value, "pairs": pairs, "agreed": agreed, "raw_agreement": raw, "kappa": value, "standard_error": se,
                "ci_low": low, "ci_high": high, "small_sample": status is agreeing.KappaStatus.SMALL_SAMPLE, "kappa_status": status.value,
                "confusion": {grade: dict(zip(scale, counts[12 + i * n:12 + (i + 1) * n], strict=True)) for i, grade in enumerate(scale)},
            }
        if (moderation := moderations.get((tuple(counts[:10]), rate))) is None:
            audits, moderated, escalated, items, ra, la, ua, rp, lp, up = counts[:10]
            moderation = moderations[tuple(counts[:10]), rate] = {
                "audits": audits, "moderated": moderated, "escalated": escalated, "moderation_rate": rate, "moderated_items": items,
                "from_auditor": {"raised": ra, "lowered": la, "unchanged": ua}, "from_peer_reviewer": {"raised": rp, "lowered": lp, "unchanged": up},
            }
        rows.append({"group": group, "name": title if at == last else names.get(group, title), "agreement": agreement, "moderation": moderation})
    return rows


def _agreement_json(report: dict[str, Any]) -> bytes:
    """``to_json(report)`` (``rows`` and ``total`` its last fields, as in ``AgreementReport``), the
    parts that rows share (``_agreement_rows``) written once: the same bytes (a unit test
    compares), in half the time for the thousands of rows of a report by pair."""
    written: dict[int, bytes] = {}

    def shared(part: dict[str, Any]) -> bytes:
        if (found := written.get(id(part))) is None:
            found = written[id(part)] = to_json(part)
        return found

    def row(r: dict[str, Any]) -> bytes:
        return b'{"group":%b,"name":%b,"agreement":%b,"moderation":%b}' % (
            to_json(r["group"]), to_json(r["name"]), shared(r["agreement"]), shared(r["moderation"]),
        )

    head = to_json({k: v for k, v in report.items() if k not in ("rows", "total")})
    return head[:-1] + b',"rows":[' + b",".join([row(r) for r in report["rows"]]) + b'],"total":' + row(report["total"]) + b"}"


def _agreement_line(report: dict[str, Any], row: dict[str, Any]) -> dict[str, Any]:
    a, m = row["agreement"], row["moderation"]
    line: dict[str, Any] = {
        "period": report["period"], "by": report["by"], "weights": report["weights"], "item": report["item"] or "", "group": row["group"], "name": row["name"],
        "audits": m["audits"], "pairs": a["pairs"], "agreed": a["agreed"], "raw_agreement": a["raw_agreement"], "kappa": a["kappa"],
        "standard_error": a["standard_error"], "ci_low": a["ci_low"], "ci_high": a["ci_high"], "small_sample": a["small_sample"], "kappa_status": a["kappa_status"],
        "moderated": m["moderated"], "escalated": m["escalated"], "moderation_rate": m["moderation_rate"], "moderated_items": m["moderated_items"],
        "raised_from_auditor": m["from_auditor"]["raised"], "lowered_from_auditor": m["from_auditor"]["lowered"],
        "unchanged_from_auditor": m["from_auditor"]["unchanged"], "raised_from_peer_reviewer": m["from_peer_reviewer"]["raised"],
        "lowered_from_peer_reviewer": m["from_peer_reviewer"]["lowered"], "unchanged_from_peer_reviewer": m["from_peer_reviewer"]["unchanged"],
    }
    for auditor, cells in a["confusion"].items():
        for peer, n in cells.items():
            line[f"auditor_{auditor}__peer_reviewer_{peer}"] = n
    return line


@router.get(
    "/moderation-agreement", response_model=AgreementReport, responses=AGREEMENT,
    summary="Moderation agreement: weighted kappa of auditor and peer reviewer grades, and what moderation changed",
)
async def moderation_agreement_report(
    request: Request, caller: CurrentPerson, runtime: RuntimeDep,
    period: Annotated[str, Query(pattern=AGREEMENT_PERIOD, description="A month (2026-08), a calendar quarter (2026-Q3) or a year (2026)")],
    by: Annotated[agreeing.By, Query(description="One row per team, sub-section (and the overall grade), auditor/peer reviewer pair, month or quarter")] = agreeing.By.TEAM,
    weights: Annotated[agreeing.Weights, Query(description="quadratic (Fleiss-Cohen, the default) or linear (Cicchetti-Allison)")] = agreeing.Weights.QUADRATIC,
    item: Annotated[str | None, Query(min_length=1, max_length=64, description="Only this item's paired grades: a sub-section key, or overall")] = None,
    tool_id: ToolFilter = None, format: AgreementFormat = None,
) -> AgreementReport | Response:
    reports.may_read_reports(caller)
    months = _agreement_months(period)
    found, names = await reports.moderation_agreement(runtime.db, months, by, weights, item, tool_id)
    with gc_paused():
        rows = _agreement_rows(found, names)
    # ``AgreementReport``'s fields, in its order (written as JSON as the model would write them).
    report: dict[str, Any] = {
        "period": period, "months": [str(m) for m in months], "by": by.value, "weights": weights.value, "item": item, "tool_id": tool_id,
        "min_pairs": found.min_pairs, "scale": [s.value for s in agreeing.SCALE], "rows": rows[:-1], "total": rows[-1],
    }
    wanted = formats.wanted(request, format, ("csv", "svg", "png", "pdf"))
    if wanted == "csv":
        with gc_paused():
            lines = [_agreement_line(report, r) for r in rows]
        return _csv_response(lines, f"moderation-agreement-{period}-{by.value}.csv")
    if wanted in ("svg", "png", "pdf"):
        model = AgreementReport.model_validate(report)
        chart = _agreement_chart(model)
        if wanted == "pdf":
            content = await asyncio.to_thread(_agreement_pdf, model, chart, runtime.clock.now())
            return Response(content, media_type="application/pdf", headers={"Content-Disposition": attachment(f"moderation-agreement-{period}-{by.value}.pdf")})
        return await formats.chart_response(chart, wanted, f"moderation-agreement-{period}-{by.value}")
    with gc_paused():
        body = _agreement_json(report)
    return Response(body, media_type="application/json")


def _agreement_chart(report: AgreementReport) -> charting.Chart:
    over_time = report.by in (agreeing.By.MONTH, agreeing.By.QUARTER)
    of = f"by {report.by.value.replace('_', '-')}" + (f", {report.item}" if report.item else "")
    return charts.agreement(
        [r.name for r in report.rows], [r.agreement.raw_agreement for r in report.rows], [r.agreement.kappa for r in report.rows],
        over_time=over_time, title=f"Auditor and peer reviewer agreement, {report.period} ({of})", weights=report.weights.value,
    )


def _rate(value: float | None) -> str:
    return "-" if value is None else f"{value:.0%}"


def _agreement_pdf(report: AgreementReport, chart: charting.Chart, at: datetime) -> bytes:
    def line(row: AgreementRow) -> tuple[str, ...]:
        a, m = row.agreement, row.moderation
        if a.kappa is None:
            kappa = "small sample" if a.small_sample else a.kappa_status.value
        else:
            kappa = f"{a.kappa:.3f}" + (f" ({a.ci_low:.2f} to {a.ci_high:.2f})" if a.ci_low is not None and a.ci_high is not None else "")
        return (row.name, str(m.audits), str(a.pairs), str(a.agreed), _rate(a.raw_agreement), kappa, f"{m.moderated} of {m.audits}")

    facts = [
        ("Period", f"{report.period} ({report.months[0]} to {report.months[-1]})"), ("One row per", report.by.value.replace("_", " ")),
        ("Kappa weights", report.weights.value), ("Item", report.item or "every sub-section and the overall grade"),
        ("Programme", report.tool_id or "all"), ("Small sample", f"fewer than {report.min_pairs} paired ratings: counts only, no rate and no kappa"),
    ]
    notes = [
        "Raw agreement: the share of paired ratings (an item both the auditor and the peer reviewer graded) with the same grade. "
        f"Kappa: weighted Cohen's kappa ({report.weights.value} weights) on the scale {', '.join(report.scale)}.",
    ]
    title = f"Moderation agreement {report.period}"
    return report_pdf.agreement(title, facts, [*(line(r) for r in report.rows), line(report.total)], chart, notes, at=at)
