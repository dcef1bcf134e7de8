"""HTTP routes for practice observation, monitoring forms, feedback, complaints' lessons and
compliments. A record is seen by its parties (an observation: the social worker, the observer and
the line manager) or its team's readers (the team's manager, QA staff, operational managers) and
no one else (404); writes are version-guarded (If-Match) and every version is kept."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any, Generic, TypeVar

from fastapi import APIRouter, Path, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from shared.app import RuntimeDep
from shared.errors import Problem
from shared.http import Page, Pagination, RequiredIfMatch, etag, public_path
from shared.idempotency import IdempotencyKeyDep, create_once
from shared.identity import CurrentPerson
from shared.paging import page_of

from shared import paging

from ..common.api_paging import after, keyset_page
from ..common.api_params import MONTH_PATTERN, RecordIdPath
from ..common.api_scheduled import run_day
from ..common.responses import change_responses
from ..common.schemas import InputModel, to_domain
from . import store as rs
from . import usecases as uc
from .domain import observation as do
from .domain import records as dr
from .domain.observation import Observation, ObservationStatus
from .schemas import (
    Agreement,
    ComplaintLessonsEntries,
    ComplimentEntries,
    FeedbackEntries,
    MonitoringEntries,
    Plan,
    Reflection,
    Report,
)

router = APIRouter(prefix="/v1")

RecordId = RecordIdPath
TeamQuery = Annotated[str, Query(min_length=1, max_length=64, description="The team")]
MonthQuery = Annotated[str | None, Query(pattern=MONTH_PATTERN, description="Only this month (YYYY-MM)")]
CHANGES = change_responses(
    missing="No such record, or not theirs to see", forbidden="Not theirs to do",
    conflict="Not at a step where this can happen", stale="Changed since the If-Match version",
    invalid="Invalid entries (every one listed)",
)
M = TypeVar("M", bound=BaseModel)


class Meta(BaseModel):
    id: str
    month: str | None = None
    version: int
    recorded_by: str
    recorded_at: datetime
    updated_by: str
    updated_at: datetime


def _out(model: type[M], doc: dict[str, Any], response: Response | None = None) -> M:
    if response is not None:
        response.headers["ETag"] = etag(doc["version"])
    return model.model_validate({**{k: v for k, v in doc.items() if k in model.model_fields}, "id": doc["_id"]})


# --- observations --------------------------------------------------------------------------------


class ObservationIn(InputModel):
    social_worker_id: str = Field(min_length=1, max_length=64)
    plan: Plan


class CancelIn(InputModel):
    reason: str = Field(min_length=1, max_length=2000, description="e.g. the service user did not agree")


class ObservationOut(BaseModel):
    id: str
    social_worker_id: str
    observer_id: str
    line_manager_id: str | None
    team_id: str | None
    status: ObservationStatus
    plan: Plan
    agreement: Agreement | None
    agreed_at: datetime | None
    report: Report | None
    reported_at: datetime | None
    reflection: Reflection | None
    reflected_at: datetime | None
    cancelled_reason: str
    created_by: str
    created_at: datetime
    updated_by: str
    updated_at: datetime
    version: int
    feedback_due_on: date | None = Field(default=None, description="The written feedback is due two weeks after the session")
    written_late: bool | None = None


class RemindersIn(InputModel):
    today: date | None = Field(default=None, description="The day to run for (defaults to today)")


class Reminded(BaseModel):
    social_worker_id: str
    due_on: date


class RemindersOut(BaseModel):
    reminded: list[Reminded]


class VersionOut(BaseModel):
    version: int
    changed_by: str
    changed_at: datetime
    record: dict[str, Any]


def _observation(o: Observation, response: Response | None = None) -> ObservationOut:
    if response is not None:
        response.headers["ETag"] = etag(o.version)
    return ObservationOut.model_validate(o, from_attributes=True)


@router.post("/observations", response_model=ObservationOut, status_code=201, tags=["practice observation"], summary="Plan a practice observation (the social worker's line manager or supervisor)", responses={403: CHANGES[403], 422: CHANGES[422]})
async def plan_observation(body: ObservationIn, caller: CurrentPerson, runtime: RuntimeDep, request: Request, response: Response, key: IdempotencyKeyDep) -> ObservationOut:
    ctx = runtime.extra["audit"]
    observation = await create_once(
        runtime.db, key, response,
        create=lambda: uc.plan_observation(ctx, social_worker_id=body.social_worker_id, plan=to_domain(body.plan, do.Plan), caller=caller, key=key),
        read=lambda observation_id: uc.read_observation(ctx, observation_id, caller),
    )
    response.headers["Location"] = public_path(request, f"/v1/observations/{observation.id}")
    return _observation(observation, response)


@router.get("/observations", response_model=Page[ObservationOut], tags=["practice observation"], summary="Observations the caller is party to (QA staff: all)")
async def list_observations(
    caller: CurrentPerson, runtime: RuntimeDep, page: Pagination, social_worker_id: Annotated[str | None, Query(max_length=64)] = None,
) -> Page[ObservationOut]:
    found = await uc.list_observations(runtime.extra["audit"], caller, social_worker_id=social_worker_id, after=after(page), limit=page.limit + 1)
    return keyset_page(found, page, _observation)


@router.post("/observations/reminders", response_model=RemindersOut, tags=["practice observation"], summary="Remind of every social worker whose observation is due (administrators; the scheduler)", responses={403: CHANGES[403]})
async def observation_reminders(body: RemindersIn, caller: CurrentPerson, runtime: RuntimeDep) -> RemindersOut:
    today = run_day(caller, runtime, body.today, runs="the observation reminders")
    return RemindersOut(reminded=[Reminded(**r) for r in await uc.observations_due(runtime.extra["audit"], today)])


@router.get("/observations/{observation_id}", response_model=ObservationOut, tags=["practice observation"], summary="Read an observation", responses={404: CHANGES[404]})
async def read_observation(observation_id: RecordId, caller: CurrentPerson, runtime: RuntimeDep, response: Response) -> ObservationOut:
    return _observation(await uc.read_observation(runtime.extra["audit"], observation_id, caller), response)


@router.put("/observations/{observation_id}/plan", response_model=ObservationOut, tags=["practice observation"], summary="Revise the plan (the observer; agreed again)", responses=CHANGES)
async def revise_observation_plan(observation_id: RecordId, body: Plan, caller: CurrentPerson, runtime: RuntimeDep, response: Response, if_match: RequiredIfMatch) -> ObservationOut:
    return _observation(await uc.revise_plan(runtime.extra["audit"], observation_id, to_domain(body, do.Plan), caller=caller, expected=if_match), response)


@router.post("/observations/{observation_id}/agreement", response_model=ObservationOut, tags=["practice observation"], summary="Agree the plan with the session's aims and standards (the social worker)", responses=CHANGES)
async def agree_observation(observation_id: RecordId, body: Agreement, caller: CurrentPerson, runtime: RuntimeDep, response: Response, if_match: RequiredIfMatch) -> ObservationOut:
    return _observation(await uc.agree(runtime.extra["audit"], observation_id, to_domain(body, do.Agreement), caller=caller, expected=if_match), response)


@router.put("/observations/{observation_id}/report", response_model=ObservationOut, tags=["practice observation"], summary="Write or revise the observation report (the observer; consent required)", responses=CHANGES)
async def report_observation(observation_id: RecordId, body: Report, caller: CurrentPerson, runtime: RuntimeDep, response: Response, if_match: RequiredIfMatch) -> ObservationOut:
    return _observation(await uc.report(runtime.extra["audit"], observation_id, to_domain(body, do.Report), caller=caller, expected=if_match), response)


@router.post("/observations/{observation_id}/reflection", response_model=ObservationOut, tags=["practice observation"], summary="The social worker's reflection on the observation", responses=CHANGES)
async def reflect_on_observation(observation_id: RecordId, body: Reflection, caller: CurrentPerson, runtime: RuntimeDep, response: Response, if_match: RequiredIfMatch) -> ObservationOut:
    return _observation(await uc.reflect(runtime.extra["audit"], observation_id, to_domain(body, do.Reflection), caller=caller, expected=if_match), response)


@router.post("/observations/{observation_id}/cancel", response_model=ObservationOut, tags=["practice observation"], summary="Cancel a planned observation (kept, with the reason)", responses=CHANGES)
async def cancel_observation(observation_id: RecordId, body: CancelIn, caller: CurrentPerson, runtime: RuntimeDep, response: Response, if_match: RequiredIfMatch) -> ObservationOut:
    return _observation(await uc.cancel(runtime.extra["audit"], observation_id, body.reason, caller=caller, expected=if_match), response)


def _version_out(d: dict[str, Any]) -> VersionOut:
    return VersionOut(version=d["version"], changed_by=d["changed_by"], changed_at=d["changed_at"], record={k: v for k, v in d["record"].items() if k != "viewers"})


async def version_history(runtime: Any, collection: str, record_id: str, page: Any) -> Page[VersionOut]:
    """A page of a record's versions, oldest first (practice records, and the team reviews kept the same way)."""
    after = paging.after(page, int, 0)
    docs = await rs.history(runtime.db, collection, record_id, after=after, limit=page.limit + 1)
    return page_of(docs, page, _version_out, key="version")


@router.get("/observations/{observation_id}/history", response_model=Page[VersionOut], tags=["practice observation"], summary="Every version of an observation, oldest first", responses={404: CHANGES[404]})
async def observation_history(observation_id: RecordId, caller: CurrentPerson, runtime: RuntimeDep, page: Pagination) -> Page[VersionOut]:
    await uc.read_observation(runtime.extra["audit"], observation_id, caller)
    return await version_history(runtime, rs.OBSERVATIONS, observation_id, page)


# --- monitoring forms -----------------------------------------------------------------------------


class MonitoringFormOut(MonitoringEntries, Meta):
    model_config = ConfigDict(extra="ignore")
    team_id: str
    team_manager_id: str | None = None
    report_on_time: bool | None = Field(default=None, description="CP conferences: the report reached the chair in time")


class CollationIn(InputModel):
    team_id: str = Field(min_length=1, max_length=64)
    month: str = Field(pattern=MONTH_PATTERN)


class CollationOut(BaseModel):
    id: str
    team_id: str
    month: str
    forms: int
    by_kind: dict[str, int]
    reports_on_time: int
    reports_late: int
    ratings: dict[str, dict[str, int]]
    plans_not_progressing: int
    form_ids: list[str]
    team_manager_id: str | None = None
    issued_by: str
    issued_at: datetime
    version: int


@dataclass(frozen=True)
class _Kind(Generic[M]):
    """A kind of team record (monitoring forms, feedback, complaints' lessons, compliments) as its
    routes serve it: recorded once per Idempotency-Key, listed by team, read by id."""

    collection: str
    #: Its name in a 404.
    what: str
    #: What a record is answered as.
    model: type[M]
    #: Where its records are (``Location``).
    path: str


async def _create(kind: _Kind[M], runtime: Any, caller: Any, request: Request, response: Response, key: Any, make: Any) -> M:
    ctx = runtime.extra["audit"]
    doc = await create_once(runtime.db, key, response, create=make, read=lambda record_id: uc.read_record(ctx, kind.collection, kind.what, record_id, caller))
    out = _out(kind.model, doc, response)
    response.headers["Location"] = public_path(request, f"{kind.path}/{doc['_id']}")
    return out


async def _list(kind: _Kind[M], runtime: Any, caller: Any, page: Any, team_id: str, month: str | None) -> Page[M]:
    await uc.may_read_team(runtime.db, caller, team_id)
    docs = await rs.page_for_team(runtime.db, kind.collection, team_id, month=month, after=after(page), limit=page.limit + 1)
    return page_of(docs, page, lambda d: _out(kind.model, d))


async def _read(kind: _Kind[M], runtime: Any, caller: Any, record_id: str, response: Response) -> M:
    return _out(kind.model, await uc.read_record(runtime.extra["audit"], kind.collection, kind.what, record_id, caller), response)


_MONITORING_FORMS = _Kind(rs.MONITORING_FORMS, "Monitoring form", MonitoringFormOut, "/v1/monitoring-forms")


@router.post("/monitoring-forms", response_model=MonitoringFormOut, status_code=201, tags=["monitoring forms"], summary="Complete a monitoring form for a conference, review or mid-point review (CP chairs, IROs)", responses={422: CHANGES[422]})
async def submit_monitoring_form(body: MonitoringEntries, caller: CurrentPerson, runtime: RuntimeDep, request: Request, response: Response, key: IdempotencyKeyDep) -> MonitoringFormOut:
    return await _create(_MONITORING_FORMS, runtime, caller, request, response, key,
                         lambda: uc.submit_monitoring_form(runtime.extra["audit"], to_domain(body, dr.MonitoringEntries), caller=caller, key=key))


@router.get("/monitoring-forms", response_model=Page[MonitoringFormOut], tags=["monitoring forms"], summary="A team's monitoring forms (its manager, QA staff, operational managers)", responses={403: CHANGES[403]})
async def list_monitoring_forms(team_id: TeamQuery, caller: CurrentPerson, runtime: RuntimeDep, page: Pagination, month: MonthQuery = None) -> Page[MonitoringFormOut]:
    return await _list(_MONITORING_FORMS, runtime, caller, page, team_id, month)


@router.post("/monitoring-forms/collations", response_model=CollationOut, status_code=201, tags=["monitoring forms"], summary="Collate a team's forms of a month for the QA liaison meeting (QA staff); 200 when unchanged", responses={403: CHANGES[403], 422: CHANGES[422]})
async def issue_collation(body: CollationIn, caller: CurrentPerson, runtime: RuntimeDep, request: Request, response: Response) -> CollationOut:
    doc, changed = await uc.issue_collation(runtime.extra["audit"], team_id=body.team_id, month=body.month, caller=caller)
    if not changed:
        response.status_code = 200
    response.headers["Location"] = public_path(request, f"/v1/monitoring-forms/collations/{body.month}/{body.team_id}")
    return _out(CollationOut, doc, response)


@router.get("/monitoring-forms/collations/{month}/{team_id}", response_model=CollationOut, tags=["monitoring forms"], summary="A team's collation of a month", responses={403: CHANGES[403], 404: CHANGES[404]})
async def read_collation(month: Annotated[str, Path(pattern=MONTH_PATTERN)], team_id: RecordId, caller: CurrentPerson, runtime: RuntimeDep, response: Response) -> CollationOut:
    await uc.may_read_team(runtime.db, caller, team_id)
    doc = await rs.load(runtime.db, rs.MONITORING_COLLATIONS, f"{month}:{team_id}")
    if doc is None:
        raise Problem(404, "not-found", "Not found", f"No collation of {month} for team {team_id!r} was issued.")
    return _out(CollationOut, doc, response)


@router.get("/monitoring-forms/{form_id}", response_model=MonitoringFormOut, tags=["monitoring forms"], summary="Read a monitoring form", responses={404: CHANGES[404]})
async def read_monitoring_form(form_id: RecordId, caller: CurrentPerson, runtime: RuntimeDep, response: Response) -> MonitoringFormOut:
    return await _read(_MONITORING_FORMS, runtime, caller, form_id, response)


# --- feedback, complaints, compliments ----------------------------------------------------------


class FeedbackOut(FeedbackEntries, Meta):
    model_config = ConfigDict(extra="ignore")


class ComplaintLessonsOut(ComplaintLessonsEntries, Meta):
    model_config = ConfigDict(extra="ignore")


class ComplimentOut(ComplimentEntries, Meta):
    model_config = ConfigDict(extra="ignore")


_FEEDBACK = _Kind(rs.FEEDBACK, "Feedback", FeedbackOut, "/v1/feedback")
_COMPLAINT_LESSONS = _Kind(rs.COMPLAINT_LESSONS, "Complaint lessons", ComplaintLessonsOut, "/v1/complaints")
_COMPLIMENTS = _Kind(rs.COMPLIMENTS, "Compliment", ComplimentOut, "/v1/compliments")


@router.post("/feedback", response_model=FeedbackOut, status_code=201, tags=["feedback"], summary="Record feedback from a meeting or a consultation (the staff who gather it)", responses={403: CHANGES[403], 422: CHANGES[422]})
async def record_feedback(body: FeedbackEntries, caller: CurrentPerson, runtime: RuntimeDep, request: Request, response: Response, key: IdempotencyKeyDep) -> FeedbackOut:
    return await _create(_FEEDBACK, runtime, caller, request, response, key,
                         lambda: uc.record_feedback(runtime.extra["audit"], to_domain(body, dr.FeedbackEntries), caller=caller, key=key))


@router.get("/feedback", response_model=Page[FeedbackOut], tags=["feedback"], summary="A team's feedback and consultation results", responses={403: CHANGES[403]})
async def list_feedback(team_id: TeamQuery, caller: CurrentPerson, runtime: RuntimeDep, page: Pagination, month: MonthQuery = None) -> Page[FeedbackOut]:
    return await _list(_FEEDBACK, runtime, caller, page, team_id, month)


@router.get("/feedback/{record_id}", response_model=FeedbackOut, tags=["feedback"], summary="Read one piece of feedback", responses={404: CHANGES[404]})
async def read_feedback(record_id: RecordId, caller: CurrentPerson, runtime: RuntimeDep, response: Response) -> FeedbackOut:
    return await _read(_FEEDBACK, runtime, caller, record_id, response)


@router.post("/complaints", response_model=ComplaintLessonsOut, status_code=201, tags=["complaints and compliments"], summary="Record lessons learned from a complaint or member's enquiry (Appendix C)", responses={403: CHANGES[403], 409: {"description": "Already recorded for this reference"}, 422: CHANGES[422]})
async def record_complaint(body: ComplaintLessonsEntries, caller: CurrentPerson, runtime: RuntimeDep, request: Request, response: Response, key: IdempotencyKeyDep) -> ComplaintLessonsOut:
    return await _create(_COMPLAINT_LESSONS, runtime, caller, request, response, key,
                         lambda: uc.record_complaint_lessons(runtime.extra["audit"], to_domain(body, dr.ComplaintLessonsEntries), caller=caller, key=key))


@router.get("/complaints", response_model=Page[ComplaintLessonsOut], tags=["complaints and compliments"], summary="A team's lessons learned from complaints", responses={403: CHANGES[403]})
async def list_complaints(team_id: TeamQuery, caller: CurrentPerson, runtime: RuntimeDep, page: Pagination, month: MonthQuery = None) -> Page[ComplaintLessonsOut]:
    return await _list(_COMPLAINT_LESSONS, runtime, caller, page, team_id, month)


@router.get("/complaints/{record_id}", response_model=ComplaintLessonsOut, tags=["complaints and compliments"], summary="Read the lessons learned from a complaint", responses={404: CHANGES[404]})
async def read_complaint(record_id: RecordId, caller: CurrentPerson, runtime: RuntimeDep, response: Response) -> ComplaintLessonsOut:
    return await _read(_COMPLAINT_LESSONS, runtime, caller, record_id, response)


@router.put("/complaints/{record_id}", response_model=ComplaintLessonsOut, tags=["complaints and compliments"], summary="Revise the lessons learned (the earlier version is kept)", responses=CHANGES)
async def revise_complaint(record_id: RecordId, body: ComplaintLessonsEntries, caller: CurrentPerson, runtime: RuntimeDep, response: Response, if_match: RequiredIfMatch) -> ComplaintLessonsOut:
    return _out(ComplaintLessonsOut, await uc.revise_complaint_lessons(runtime.extra["audit"], record_id, to_domain(body, dr.ComplaintLessonsEntries), caller=caller, expected=if_match), response)


@router.get("/complaints/{record_id}/history", response_model=Page[VersionOut], tags=["complaints and compliments"], summary="Every version of the lessons learned, oldest first", responses={404: CHANGES[404]})
async def complaint_history(record_id: RecordId, caller: CurrentPerson, runtime: RuntimeDep, page: Pagination) -> Page[VersionOut]:
    await uc.read_record(runtime.extra["audit"], _COMPLAINT_LESSONS.collection, _COMPLAINT_LESSONS.what, record_id, caller)
    return await version_history(runtime, _COMPLAINT_LESSONS.collection, record_id, page)


@router.post("/compliments", response_model=ComplimentOut, status_code=201, tags=["complaints and compliments"], summary="Record a compliment", responses={403: CHANGES[403], 422: CHANGES[422]})
async def record_compliment(body: ComplimentEntries, caller: CurrentPerson, runtime: RuntimeDep, request: Request, response: Response, key: IdempotencyKeyDep) -> ComplimentOut:
    return await _create(_COMPLIMENTS, runtime, caller, request, response, key,
                         lambda: uc.record_compliment(runtime.extra["audit"], to_domain(body, dr.ComplimentEntries), caller=caller, key=key))


@router.get("/compliments", response_model=Page[ComplimentOut], tags=["complaints and compliments"], summary="A team's compliments", responses={403: CHANGES[403]})
async def list_compliments(team_id: TeamQuery, caller: CurrentPerson, runtime: RuntimeDep, page: Pagination, month: MonthQuery = None) -> Page[ComplimentOut]:
    return await _list(_COMPLIMENTS, runtime, caller, page, team_id, month)


@router.get("/compliments/{record_id}", response_model=ComplimentOut, tags=["complaints and compliments"], summary="Read a compliment", responses={404: CHANGES[404]})
async def read_compliment(record_id: RecordId, caller: CurrentPerson, runtime: RuntimeDep, response: Response) -> ComplimentOut:
    return await _read(_COMPLIMENTS, runtime, caller, record_id, response)


# --- 4.5.2: the log of level 2 complaints and above, the annual extract of learning ----------------


class ComplaintLogEntryOut(BaseModel):
    record_id: str
    complaint_ref: str
    team_id: str
    level: int
    date_received: date | None
    date_responded: date
    days_to_respond: int | None = Field(description="Days from received to responded, when the date received is known")
    outcome: dr.Outcome


class ComplaintLogOut(BaseModel):
    """4.5.2: the log of the level 2 complaints and above, oldest response first."""

    items: list[ComplaintLogEntryOut]


class LessonOut(BaseModel):
    record_id: str
    complaint_ref: str
    level: int
    outcome: dr.Outcome
    actions_taken: list[dr.ActionTaken]
    lessons_learned: str


class TeamLessonsOut(BaseModel):
    team_id: str
    lessons: list[LessonOut]


class LessonsExtractOut(BaseModel):
    """4.5.2: the year's learning from the log, for the service improvement plan."""

    year: int
    complaints: int
    by_level: dict[str, int]
    outcomes: dict[str, int]
    actions_taken: dict[str, int]
    teams: list[TeamLessonsOut]


@router.get("/complaints-log", response_model=ComplaintLogOut, tags=["complaints and compliments"], summary="The log of level 2 complaints and above (4.5.2; the complaints team, QA staff, managers)", responses={403: CHANGES[403]})
async def complaints_log(caller: CurrentPerson, runtime: RuntimeDep) -> ComplaintLogOut:
    return ComplaintLogOut(items=[ComplaintLogEntryOut(**e) for e in await uc.complaint_log(runtime.extra["audit"], caller)])


@router.get("/complaints-lessons/{year}", response_model=LessonsExtractOut, tags=["complaints and compliments"], summary="The annual extract of lessons learned from the log (4.5.2)", responses={403: CHANGES[403]})
async def complaints_lessons_extract(year: Annotated[int, Path(ge=1900, le=2999, description="The calendar year of the responses")], caller: CurrentPerson, runtime: RuntimeDep) -> LessonsExtractOut:
    return LessonsExtractOut(**await uc.complaint_lessons_extract(runtime.extra["audit"], year, caller))
