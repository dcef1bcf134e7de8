"""Routes for reports: timeliness for performance monitoring and statutory returns."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query
from shared.app import RuntimeDep
from shared.errors import bad_cursor
from shared.http import PageParams, Pagination, encode_cursor
from shared.identity import CurrentPerson

from .. import reports, usecases
from . import convert, paging
from . import models as m

router = APIRouter(prefix="/v1/reports", tags=["reports"])


def _after(page: PageParams) -> str | None:
    """The row the page starts after: the ``timeliness_key`` of the last row shown (start date first)."""
    after = paging.after(page)
    if after is not None:
        try:
            date.fromisoformat(after[:10])
        except ValueError:
            raise bad_cursor() from None
    return after


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
        runtime.db, caller, type_code=type_code, period_from=period_from, period_to=period_to, today=usecases.today(runtime.uow),
        after=_after(page), limit=page.limit + 1,
    )
    rows = report.rows
    shown = rows[: page.limit]
    return m.TimelinessReportOut(
        type_code=report.type_code, period_from=report.period_from, period_to=report.period_to,
        totals=convert.totals(report.totals), by_type={k: convert.totals(v) for k, v in report.by_type.items()},
        items=[convert.row(r) for r in shown],
        next=encode_cursor({"after": shown[-1].cursor}) if len(rows) > page.limit else None,
    )
