"""Routes for reports: timeliness for performance monitoring and statutory returns."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query
from shared.app import RuntimeDep
from shared.http import Pagination, encode_cursor
from shared.identity import CurrentPerson

from .. import reports, usecases
from . import convert, paging
from . import models as m

router = APIRouter(prefix="/v1/reports", tags=["reports"])


@router.get(
    "/timeliness", response_model=m.TimelinessReportOut, responses={403: {}, 422: {}},
    summary="Timeliness per type and period: start date, latest version's counter-signature date, working days, on time or late",
)
async def timeliness_report(
    caller: CurrentPerson,
    runtime: RuntimeDep,
    page: Pagination,
    period_from: Annotated[date, Query(alias="from", description="First start date included")],
    period_to: Annotated[date, Query(alias="to", description="Last start date included")],
    type_code: Annotated[str | None, Query(alias="type", pattern=r"^[A-Z][A-Z0-9_]{1,19}$", description="One type, e.g. INIASS")] = None,
) -> m.TimelinessReportOut:
    report = await reports.timeliness(
        runtime.db, caller, type_code=type_code, period_from=period_from, period_to=period_to, today=usecases.today(runtime.uow)
    )
    start = paging.after(page)
    rows = [r for r in report.rows if start is None or r.cursor > start]
    shown = rows[: page.limit]
    return m.TimelinessReportOut(
        type_code=report.type_code, period_from=report.period_from, period_to=report.period_to,
        totals=convert.totals(report.totals), by_type={k: convert.totals(v) for k, v in report.by_type.items()},
        items=[convert.row(r) for r in shown],
        next=encode_cursor({"after": shown[-1].cursor}) if len(rows) > page.limit else None,
    )
