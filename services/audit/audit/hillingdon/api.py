"""HTTP routes of Hillingdon's framework (``/v1/hillingdon/...``) and of themed audits
(``/v1/themed/...``). A person not party to a record gets 404; a party doing what is not theirs,
403; a stale or missing If-Match changes nothing (412 / 428); an issued report or a closed review
refuses every change (409)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response
from shared.app import RuntimeDep
from shared.calendar import local_date
from shared.disposition import attachment
from shared.errors import Problem, forbidden
from shared.http import Page, Pagination, RequiredIfMatch, etag, public_path
from shared.identity import CurrentPerson

from ..common.api_paging import after, keyset_page, slice_page
from ..common.api_params import MONTH_PATTERN
from ..common.responses import change_responses
from ..common.roles import QA_STAFF_ROLES
from ..cycles.domain.timetable import Month
from . import pdf, usecases
from . import store as st
from .domain.crib_points import COLUMNS, CRIB_POINTS, THEMES_HEADING
from .domain.errors import NotFound
from .domain.report import EditableReport, ReportKind
from .domain.review import PracticeReview, ReviewStatus
from .domain.themed import ThemedPeriod
from .schemas import (
    CribEntriesIn,
    CribPointOut,
    CribSheetIn,
    CribSheetOut,
    CribSheetTemplateOut,
    MonthlyReportIn,
    OverviewIn,
    ReassignIn,
    ReportEditIn,
    ReportEditOut,
    ReportOut,
    ReviewOut,
    ReviewOutcome,
    RoundIn,
    RoundOut,
    SampleIn,
    SampleReviewIn,
    ScheduledPeriodOut,
    SessionIn,
    SessionOut,
    SummaryIn,
    ThemedReportIn,
    VerificationIn,
    crib_sheet_out,
    entries_of,
    outcome_of,
    report_out,
    review_out,
    round_out,
    session_out,
)

router = APIRouter(prefix="/v1/hillingdon", tags=["hillingdon"])
themed_router = APIRouter(prefix="/v1/themed", tags=["themed audits"])

Id = Annotated[str, Path(min_length=1, max_length=80, pattern=r"^[A-Za-z0-9:-]+$")]
MonthPath = Annotated[str, Path(pattern=MONTH_PATTERN, description="YYYY-MM")]
CHANGES = change_responses(
    missing="No such record, or not party to it", forbidden="Party to it, but this is not theirs to do",
    conflict="Closed, issued, or not at a stage where this can happen", stale="Changed since the If-Match version",
    invalid="Invalid entries, or gaps (every one listed)",
)


DOMAIN_ERRORS = {
    NotFound: lambda e: Problem(404, "not-found", "Not found", str(e)),
    st.Exists: lambda e: Problem(409, "exists", "Already exists", f"The {e.what} {e.ident} exists already: read it, or edit it.", id=e.ident),
}


def _tagged(response: Response, version: int) -> None:
    response.headers["ETag"] = etag(version)


def _month(text: str) -> Month:
    try:
        return Month.parse(text)
    except ValueError as exc:
        raise Problem(422, "invalid-entries", "Invalid entries", str(exc), errors=[{"field": "month", "message": str(exc), "code": "invalid"}]) from exc


def _period(text: str) -> ThemedPeriod:
    try:
        return ThemedPeriod.parse(text)
    except ValueError as exc:
        raise Problem(422, "invalid-entries", "Invalid entries", str(exc), errors=[{"field": "period", "message": str(exc)}]) from exc


# --- reviews -------------------------------------------------------------------------------------


@router.get("/reviews", response_model=Page[ReviewOut], summary="Reviews the caller is party to (QA staff: every review)")
async def list_practice_reviews(
    caller: CurrentPerson, runtime: RuntimeDep, page: Pagination, status: Annotated[ReviewStatus | None, Query()] = None
) -> Page[ReviewOut]:
    found = await usecases.list_reviews(runtime.db, caller, status=status.value if status else None, after=after(page), limit=page.limit + 1)
    return keyset_page(found, page, review_out)


def _review(review: PracticeReview, response: Response) -> ReviewOut:
    _tagged(response, review.version)
    return review_out(review)


@router.get("/reviews/{review_id}", response_model=ReviewOut, summary="Read a review (its service manager, assistant director, auditor; QA staff)", responses={404: CHANGES[404]})
async def read_practice_review(review_id: Id, caller: CurrentPerson, runtime: RuntimeDep, response: Response) -> ReviewOut:
    return _review(await usecases.read_review(runtime.db, review_id, caller), response)


@router.put("/reviews/{review_id}/outcome", response_model=ReviewOut, summary="Record the review's outcome, actions taken and improvement plan (the case's service manager)", responses=CHANGES)
async def record_outcome(review_id: Id, body: ReviewOutcome, caller: CurrentPerson, runtime: RuntimeDep, response: Response, if_match: RequiredIfMatch) -> ReviewOut:
    return _review(await usecases.record_review_outcome(runtime.uow, review_id, outcome_of(body), caller=caller, expected=if_match), response)


@router.post("/reviews/{review_id}/report", response_model=ReviewOut, summary="Report the review to the assistant director, closing it (the case's service manager)", responses=CHANGES)
async def report_review(review_id: Id, caller: CurrentPerson, runtime: RuntimeDep, response: Response, if_match: RequiredIfMatch) -> ReviewOut:
    return _review(await usecases.report_review(runtime.uow, review_id, caller=caller, expected=if_match), response)


@router.post("/reviews/{review_id}/verification", response_model=ReviewOut, summary="Verify the action taken after the review was reported (QA staff: the QA auditor)", responses=CHANGES)
async def verify_review(review_id: Id, body: VerificationIn, caller: CurrentPerson, runtime: RuntimeDep, response: Response, if_match: RequiredIfMatch) -> ReviewOut:
    return _review(await usecases.verify_review(runtime.uow, review_id, body.verification, caller=caller, expected=if_match), response)


@router.put("/reviews/{review_id}/people", response_model=ReviewOut, summary="Name the service manager or assistant director the directory could not (QA staff)", responses=CHANGES)
async def reassign_practice_review(review_id: Id, body: ReassignIn, caller: CurrentPerson, runtime: RuntimeDep, response: Response, if_match: RequiredIfMatch) -> ReviewOut:
    review = await usecases.reassign_review(
        runtime.uow, review_id, service_manager_id=body.service_manager_id, assistant_director_id=body.assistant_director_id, caller=caller, expected=if_match
    )
    return _review(review, response)


# --- reports (shared by the monthly and the themed report) ---------------------------------------


def _href(request: Request, report: EditableReport) -> str:
    if report.kind is ReportKind.MONTHLY:
        return public_path(request, f"/v1/hillingdon/monthly-reports/{report.period}/pdf")
    return public_path(request, f"/v1/themed/reports/{report.period}/pdf")


def _report(report: EditableReport, request: Request, response: Response) -> ReportOut:
    _tagged(response, report.version)
    return report_out(report, _href(request, report))


async def _pdf(runtime: RuntimeDep, report: EditableReport) -> Response:
    content = await usecases.report_pdf(runtime.db, report, runtime.clock.now())
    return Response(content, media_type="application/pdf", headers={"Content-Disposition": attachment(pdf.filename(report))})


async def _history(runtime: RuntimeDep, kind: ReportKind, period: str, caller: CurrentPerson, page: Pagination) -> Page[ReportEditOut]:
    report = await usecases.read_report(runtime.db, kind, period, caller)
    if QA_STAFF_ROLES.isdisjoint(caller.roles):
        raise NotFound("report", period)
    return slice_page(report.history, page, lambda h: ReportEditOut(number=h.number, what=h.what, by=h.by, at=h.at, sections=h.sections))


PDF_RESPONSE: dict[int | str, dict[str, Any]] = {200: {"content": {"application/pdf": {}}, "description": "The PDF (a draft's marked DRAFT)"}, 404: CHANGES[404]}


@router.post("/monthly-reports", response_model=ReportOut, status_code=201, summary="Generate the month's audit report as a draft (lead QA auditor)", responses={403: CHANGES[403], 409: {"description": "The month's report exists"}})
async def generate_monthly(body: MonthlyReportIn, caller: CurrentPerson, runtime: RuntimeDep, request: Request, response: Response) -> ReportOut:
    report = await usecases.generate_monthly_report(runtime.uow, _month(body.month), caller=caller)
    response.headers["Location"] = public_path(request, f"/v1/hillingdon/monthly-reports/{report.period}")
    return _report(report, request, response)


@router.get("/monthly-reports/{month}", response_model=ReportOut, summary="Read a monthly audit report (drafts: QA staff; issued: managers too)", responses={404: CHANGES[404]})
async def read_monthly(month: MonthPath, caller: CurrentPerson, runtime: RuntimeDep, request: Request, response: Response) -> ReportOut:
    return _report(await usecases.read_report(runtime.db, ReportKind.MONTHLY, month, caller), request, response)


@router.put("/monthly-reports/{month}", response_model=ReportOut, summary="Edit the draft's headlines, themes and recommendations (lead QA auditor)", responses=CHANGES)
async def edit_monthly(month: MonthPath, body: ReportEditIn, caller: CurrentPerson, runtime: RuntimeDep, request: Request, response: Response, if_match: RequiredIfMatch) -> ReportOut:
    return _report(await usecases.edit_report(runtime.uow, ReportKind.MONTHLY, month, body.sections, caller=caller, expected=if_match), request, response)


@router.post("/monthly-reports/{month}/refresh", response_model=ReportOut, summary="Recount the draft's figures from the month's audits (lead QA auditor)", responses=CHANGES)
async def refresh_monthly(month: MonthPath, caller: CurrentPerson, runtime: RuntimeDep, request: Request, response: Response, if_match: RequiredIfMatch) -> ReportOut:
    return _report(await usecases.refresh_report(runtime.uow, ReportKind.MONTHLY, month, caller=caller, expected=if_match), request, response)


@router.post("/monthly-reports/{month}/issue", response_model=ReportOut, summary="Issue the report: its PDF is kept and it never changes again (lead QA auditor)", responses=CHANGES)
async def issue_monthly(month: MonthPath, caller: CurrentPerson, runtime: RuntimeDep, request: Request, response: Response, if_match: RequiredIfMatch) -> ReportOut:
    return _report(await usecases.issue_report(runtime.uow, ReportKind.MONTHLY, month, caller=caller, expected=if_match), request, response)


@router.get("/monthly-reports/{month}/history", response_model=Page[ReportEditOut], summary="Every version of the report's text (QA staff)", responses={404: CHANGES[404]})
async def monthly_history(month: MonthPath, caller: CurrentPerson, runtime: RuntimeDep, page: Pagination) -> Page[ReportEditOut]:
    return await _history(runtime, ReportKind.MONTHLY, month, caller, page)


@router.get("/monthly-reports/{month}/pdf", response_class=Response, response_model=None, summary="The report as a PDF", responses=PDF_RESPONSE)
async def monthly_pdf(month: MonthPath, caller: CurrentPerson, runtime: RuntimeDep) -> Response:
    return await _pdf(runtime, await usecases.read_report(runtime.db, ReportKind.MONTHLY, month, caller))


@themed_router.post("/reports", response_model=ReportOut, status_code=201, summary="Generate a bi-monthly themed audit report as a draft (lead QA auditor)", responses={403: CHANGES[403], 409: {"description": "The period's report exists"}, 422: CHANGES[422]})
async def generate_themed(body: ThemedReportIn, caller: CurrentPerson, runtime: RuntimeDep, request: Request, response: Response) -> ReportOut:
    report = await usecases.generate_themed_report(runtime.uow, _period(body.period), body.theme, caller=caller)
    response.headers["Location"] = public_path(request, f"/v1/themed/reports/{report.period}")
    return _report(report, request, response)


@themed_router.get("/schedule", response_model=list[ScheduledPeriodOut], summary="The year's six bi-monthly periods and their reports (QA staff and managers)")
async def themed_schedule(caller: CurrentPerson, runtime: RuntimeDep, year: Annotated[int, Query(ge=2000, le=2100)]) -> list[ScheduledPeriodOut]:
    if QA_STAFF_ROLES.isdisjoint(caller.roles) and usecases.REPORT_READERS.isdisjoint(caller.roles):
        raise forbidden("The themed audit schedule is for QA staff and managers.")
    found = await usecases.themed_schedule(runtime.db, year, local_date(runtime.clock.now()))
    return [ScheduledPeriodOut(period=str(p.period), months=[str(m) for m in p.period.months], due_on=p.due_on, state=p.state.value, theme=p.theme) for p in found]


@themed_router.get("/reports/{period}", response_model=ReportOut, summary="Read a themed audit report", responses={404: CHANGES[404]})
async def read_themed(period: MonthPath, caller: CurrentPerson, runtime: RuntimeDep, request: Request, response: Response) -> ReportOut:
    return _report(await usecases.read_report(runtime.db, ReportKind.THEMED, period, caller), request, response)


@themed_router.put("/reports/{period}", response_model=ReportOut, summary="Edit the draft's findings and recommendations (lead QA auditor)", responses=CHANGES)
async def edit_themed(period: MonthPath, body: ReportEditIn, caller: CurrentPerson, runtime: RuntimeDep, request: Request, response: Response, if_match: RequiredIfMatch) -> ReportOut:
    return _report(await usecases.edit_report(runtime.uow, ReportKind.THEMED, period, body.sections, caller=caller, expected=if_match), request, response)


@themed_router.post("/reports/{period}/refresh", response_model=ReportOut, summary="Recount the draft's figures (lead QA auditor)", responses=CHANGES)
async def refresh_themed(period: MonthPath, caller: CurrentPerson, runtime: RuntimeDep, request: Request, response: Response, if_match: RequiredIfMatch) -> ReportOut:
    return _report(await usecases.refresh_report(runtime.uow, ReportKind.THEMED, period, caller=caller, expected=if_match), request, response)


@themed_router.post("/reports/{period}/issue", response_model=ReportOut, summary="Issue the themed report (lead QA auditor)", responses=CHANGES)
async def issue_themed(period: MonthPath, caller: CurrentPerson, runtime: RuntimeDep, request: Request, response: Response, if_match: RequiredIfMatch) -> ReportOut:
    return _report(await usecases.issue_report(runtime.uow, ReportKind.THEMED, period, caller=caller, expected=if_match), request, response)


@themed_router.get("/reports/{period}/history", response_model=Page[ReportEditOut], summary="Every version of the report's text (QA staff)", responses={404: CHANGES[404]})
async def themed_history(period: MonthPath, caller: CurrentPerson, runtime: RuntimeDep, page: Pagination) -> Page[ReportEditOut]:
    return await _history(runtime, ReportKind.THEMED, period, caller, page)


@themed_router.get("/reports/{period}/pdf", response_class=Response, response_model=None, summary="The themed report as a PDF", responses=PDF_RESPONSE)
async def themed_pdf(period: MonthPath, caller: CurrentPerson, runtime: RuntimeDep) -> Response:
    return await _pdf(runtime, await usecases.read_report(runtime.db, ReportKind.THEMED, period, caller))


# --- the crib sheet and the service manager's sessions -------------------------------------------


@router.get("/crib-sheet", response_model=CribSheetTemplateOut, summary="Appendix A: the 16 quality points checked in supervision")
async def crib_sheet_template(caller: CurrentPerson) -> CribSheetTemplateOut:
    points = [CribPointOut(number=p.number, text=p.text, details=list(p.details)) for p in CRIB_POINTS]
    return CribSheetTemplateOut(heading=THEMES_HEADING, columns=list(COLUMNS), points=points)


def _sheet(sheet: object, response: Response) -> CribSheetOut:
    out = crib_sheet_out(sheet)  # type: ignore[arg-type]
    _tagged(response, out.version)
    return out


@router.post("/crib-sheets", response_model=CribSheetOut, status_code=201, summary="Start a case's crib sheet (its team manager or service manager)", responses={403: CHANGES[403], 422: CHANGES[422]})
async def create_crib_sheet(body: CribSheetIn, caller: CurrentPerson, runtime: RuntimeDep, request: Request, response: Response) -> CribSheetOut:
    sheet = await usecases.create_crib_sheet(runtime.uow, case_id=body.case_id, month=_month(body.month), social_worker_id=body.social_worker_id, caller=caller)
    response.headers["Location"] = public_path(request, f"/v1/hillingdon/crib-sheets/{sheet.id}")
    return _sheet(sheet, response)


@router.get("/crib-sheets/{sheet_id}", response_model=CribSheetOut, summary="Read a crib sheet (social worker, managers, QA staff)", responses={404: CHANGES[404]})
async def read_crib_sheet(sheet_id: Id, caller: CurrentPerson, runtime: RuntimeDep, response: Response) -> CribSheetOut:
    return _sheet(await usecases.read_crib_sheet(runtime.db, sheet_id, caller), response)


@router.put("/crib-sheets/{sheet_id}", response_model=CribSheetOut, summary="Fill in points of the crib sheet (the case's managers; every save kept)", responses=CHANGES)
async def save_crib_sheet(sheet_id: Id, body: CribEntriesIn, caller: CurrentPerson, runtime: RuntimeDep, response: Response, if_match: RequiredIfMatch) -> CribSheetOut:
    return _sheet(await usecases.save_crib_sheet(runtime.uow, sheet_id, entries_of(body), caller=caller, expected=if_match), response)


@router.post("/crib-sheets/{sheet_id}/check", response_model=CribSheetOut, summary="The manager checks the sheet (every point checked and dated)", responses=CHANGES)
async def check_crib_sheet(sheet_id: Id, caller: CurrentPerson, runtime: RuntimeDep, response: Response, if_match: RequiredIfMatch) -> CribSheetOut:
    return _sheet(await usecases.check_crib_sheet(runtime.uow, sheet_id, caller=caller, expected=if_match), response)


def _session(session: object, response: Response) -> SessionOut:
    out = session_out(session)  # type: ignore[arg-type]
    _tagged(response, out.version)
    return out


@router.post("/management-sessions", response_model=SessionOut, status_code=201, summary="Hold the monthly session with a team manager on two cases (service manager)", responses={403: CHANGES[403], 409: {"description": "The team's session for the month exists"}, 422: CHANGES[422]})
async def hold_session(body: SessionIn, caller: CurrentPerson, runtime: RuntimeDep, request: Request, response: Response) -> SessionOut:
    session = await usecases.hold_session(runtime.uow, month=_month(body.month), team_id=body.team_id, crib_sheet_ids=body.crib_sheet_ids, caller=caller)
    response.headers["Location"] = public_path(request, f"/v1/hillingdon/management-sessions/{session.id}")
    return _session(session, response)


@router.get("/management-sessions/{session_id}", response_model=SessionOut, summary="Read a session (its service manager, team manager, assistant director; QA staff)", responses={404: CHANGES[404]})
async def read_session(session_id: Id, caller: CurrentPerson, runtime: RuntimeDep, response: Response) -> SessionOut:
    return _session(await usecases.read_session(runtime.db, session_id, caller), response)


@router.put("/management-sessions/{session_id}/summary", response_model=SessionOut, summary="Write the session's summary (its service manager; every version kept)", responses=CHANGES)
async def write_summary(session_id: Id, body: SummaryIn, caller: CurrentPerson, runtime: RuntimeDep, response: Response, if_match: RequiredIfMatch) -> SessionOut:
    return _session(await usecases.write_session_summary(runtime.uow, session_id, body.summary, caller=caller, expected=if_match), response)


@router.post("/management-sessions/{session_id}/report", response_model=SessionOut, summary="Report the session to the assistant director (its service manager)", responses=CHANGES)
async def report_session(session_id: Id, caller: CurrentPerson, runtime: RuntimeDep, response: Response, if_match: RequiredIfMatch) -> SessionOut:
    return _session(await usecases.report_session(runtime.uow, session_id, caller=caller, expected=if_match), response)


# --- the single-agency audit round (Appendix D) ------------------------------------------------


@router.post("/rounds", status_code=201, response_model=RoundOut, summary="Allocate a team's single-agency audit round: three cases each (QA staff)",
             responses={403: CHANGES[403], 409: {"description": "The team's round for the month exists"}, 422: CHANGES[422]})
async def allocate_single_agency_round(body: RoundIn, caller: CurrentPerson, runtime: RuntimeDep, request: Request, response: Response) -> RoundOut:
    found = await usecases.allocate_round(
        runtime.extra["audit"], month=_month(body.month), team_id=body.team_id, caller=caller,
        allocations=[usecases.RoundRequest(a.auditor_id, list(a.area_of_expertise), list(a.case_ids)) for a in body.allocations],
    )
    _tagged(response, found.version)
    response.headers["Location"] = public_path(request, f"/v1/hillingdon/rounds/{found.id}")
    round_, audits = await usecases.read_round(runtime.db, found.id, caller)
    return round_out(round_, audits)


@router.get("/rounds", response_model=Page[RoundOut], summary="Single-agency audit rounds the caller is party to (QA staff: every round)")
async def list_single_agency_rounds(
    caller: CurrentPerson, runtime: RuntimeDep, page: Pagination, month: Annotated[str | None, Query(pattern=MONTH_PATTERN)] = None
) -> Page[RoundOut]:
    found = await usecases.list_rounds(runtime.db, caller, month=month, after=after(page), limit=page.limit + 1)
    return keyset_page(found, page, round_out)


async def _round_answer(runtime: RuntimeDep, round_id: str, caller: Any, response: Response) -> RoundOut:
    """The round with its audits as they stand (a change answers the round re-read with them)."""
    found, audits = await usecases.read_round(runtime.db, round_id, caller)
    _tagged(response, found.version)
    return round_out(found, audits)


@router.get("/rounds/{round_id}", response_model=RoundOut, summary="Read a round with its audits as they stand (its managers and auditors; QA staff)", responses={404: CHANGES[404]})
async def read_single_agency_round(round_id: Id, caller: CurrentPerson, runtime: RuntimeDep, response: Response) -> RoundOut:
    return await _round_answer(runtime, round_id, caller, response)


@router.post("/rounds/{round_id}/qa-sample", response_model=RoundOut, summary="Choose audits graded good or above for the QA team to review (QA staff)", responses=CHANGES)
async def select_round_qa_sample(round_id: Id, body: SampleIn, caller: CurrentPerson, runtime: RuntimeDep, response: Response, if_match: RequiredIfMatch) -> RoundOut:
    await usecases.select_qa_sample(runtime.uow, round_id, list(body.audit_ids), caller=caller, expected=if_match)
    return await _round_answer(runtime, round_id, caller, response)


@router.put("/rounds/{round_id}/qa-sample/{audit_id}", response_model=RoundOut, summary="Record the QA team's review of a sampled audit, once (QA staff)", responses=CHANGES)
async def review_round_sampled_audit(
    round_id: Id, audit_id: Id, body: SampleReviewIn, caller: CurrentPerson, runtime: RuntimeDep, response: Response, if_match: RequiredIfMatch
) -> RoundOut:
    await usecases.review_sampled_audit(runtime.uow, round_id, audit_id, finding=body.finding, agrees_with_grade=body.agrees_with_grade, caller=caller, expected=if_match)
    return await _round_answer(runtime, round_id, caller, response)


@router.put("/rounds/{round_id}/overview", response_model=RoundOut, summary="Save the overview of all the findings, once every audit is complete (the team manager; every save kept)", responses=CHANGES)
async def save_round_overview(round_id: Id, body: OverviewIn, caller: CurrentPerson, runtime: RuntimeDep, response: Response, if_match: RequiredIfMatch) -> RoundOut:
    await usecases.save_round_overview(runtime.uow, round_id, body.overview, caller=caller, expected=if_match)
    return await _round_answer(runtime, round_id, caller, response)


@router.post("/rounds/{round_id}/overview/report", response_model=RoundOut, summary="Report the overview to the service manager, closing the round (the team manager)", responses=CHANGES)
async def report_round_overview(round_id: Id, caller: CurrentPerson, runtime: RuntimeDep, response: Response, if_match: RequiredIfMatch) -> RoundOut:
    await usecases.report_round_overview(runtime.uow, round_id, caller=caller, expected=if_match)
    return await _round_answer(runtime, round_id, caller, response)
