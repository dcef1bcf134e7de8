"""HTTP routes for the monthly cycle: drawing a month (QA staff; the scheduler), reading a cycle,
its assignments and progress, and the dispensations from auditing."""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response
from pydantic import BaseModel, Field
from shared.app import RuntimeDep
from shared.calendar import local_date
from shared.errors import Problem, not_found
from shared.http import Page, Pagination, RequiredIfMatch, encode_cursor, etag, public_path
from shared.idempotency import IdempotencyKeyDep, create_once
from shared.identity import CurrentPerson
from shared.paging import page_of
from shared.problems import ProblemMap

from shared import paging

from ..case_audit import store
from ..case_audit.schemas import PersonId
from ..common.api_paging import after, keyset_page
from ..common.api_params import MONTH_PATTERN
from ..common.api_scheduled import run_day
from ..common.errors import NotAllowed
from ..common.roles import PROGRAMME_ROLES
from ..common.schemas import InputModel
from . import store as cycle_store
from . import usecases as cycles
from .domain.cycle import Cycle, DrawnWithAnotherSeed, PeerReviewerRefused, cycle_id
from .domain.dispensation import Dispensation, DispensationReason
from .domain.timetable import Month

router = APIRouter(prefix="/v1", tags=["audit cycle"])



def _drawn_with_another_seed(e: Exception) -> Problem:
    assert isinstance(e, DrawnWithAnotherSeed)
    return Problem(409, "cycle-drawn-with-another-seed", "The month was drawn with another seed", str(e), existing_seed=e.existing_seed, cycle_id=e.cycle_id)


#: The cycle's own refusals, as problem+json (merged into the service's table, ``audit.problems``).
PROBLEMS: ProblemMap = {
    DrawnWithAnotherSeed: _drawn_with_another_seed,
    PeerReviewerRefused: lambda e: Problem(409, "peer-reviewer-refused", "The peer reviewer cannot take this audit", str(e)),
}

#: A draw's seed, given to reproduce a sample.
Seed = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
MonthPath = Annotated[str, Path(pattern=MONTH_PATTERN, description="The audit month, YYYY-MM")]
ToolQuery = Annotated[str | None, Query(min_length=1, max_length=64, description="The programme's tool (defaults to the first configured)")]


class DrawIn(InputModel):
    tool_id: str | None = Field(default=None, min_length=1, max_length=64, description="The programme's tool (defaults to the first configured)")
    seed: Seed | None = Field(default=None, description="Draw with this seed (to reproduce a sample); random when absent")


class TimetableOut(BaseModel):
    draw_on: date
    month_starts: date
    digest_on: date = Field(description="Mid-month: notify sends the list of incomplete audits")
    due_on: date
    auditor_reminders: list[date] = Field(description="When notify reminds an auditor who has not submitted (every 10 working days after the allocation)")


class IdleAuditorOut(BaseModel):
    auditor_id: str
    reason: str = Field(description="Why no case they line-manage was drawn: `no_line_managed_case` (no open Child in Need, Child Protection "
                        "or Child in Care case names them) or `all_line_managed_cases_audited_in_last_12_months`")
    fallback_reason: str | None = Field(description="With the programme's own-service fallback on, why it gave them nothing either: "
                                        "`no_service_manager_above_them` or `no_eligible_case_left_in_their_service`; null when the fallback is off")


class UncoveredTeamOut(BaseModel):
    team_id: str
    reason: str = Field(description="`no_eligible_case` (every open case was audited in the last 12 months) or `no_available_auditor` "
                        "(eligible cases, but every available auditor already has an audit: allocate by hand, POST /v1/audits)")
    open_cases: int = Field(description="The team's open Child in Need, Child Protection and Child in Care cases")
    audited_in_last_12_months: int = Field(description="How many of them were audited in the 12 months before the month (not drawn again)")


class CycleOut(BaseModel):
    cycle_id: str
    tool_id: str
    tool_version: int
    programme: str
    month: str
    seed: str
    inputs_digest: str
    drawn_by: str
    drawn_at: datetime
    version: int = Field(description="The cycle's version (its ETag): send it as If-Match to assign a peer reviewer")
    timetable: TimetableOut
    audits: int = Field(description="Auditors given a case (one audit each)")
    allocated: int = Field(description="Audits created so far")
    failed: int = Field(description="Work items that could not be allocated (see failures)")
    eligible_cases: int
    uncovered_team_ids: list[str] = Field(description="Every team with open cases and no file this month (reasons in uncovered_teams)")
    uncovered_teams: list[UncoveredTeamOut] = Field(description="Each team without a file this month, and why")
    dispensed_ids: list[str]
    idle_auditor_ids: list[str] = Field(description="Available auditors with no audit this month (reasons in idle_auditors)")
    idle_auditors: list[IdleAuditorOut] = Field(description="Each available auditor left without an audit, and why")
    own_service_fallback: bool = Field(description="Whether the programme's own-service fallback (a tool setting, off by default) was on for this draw")
    awaiting_peer_reviewer: list[str] = Field(
        description="Auditors whose audit awaits a peer reviewer (audits outnumber the available reviewers, who take one each): not "
        "allocated until QA staff assign one (PUT /v1/cycles/{month}/assignments/{auditor_id}/peer-reviewer)"
    )
    failures: list[dict[str, object]]
    directory_version: dict[str, int] = Field(
        description="The directory the draw read: for each kind of record (team, person, case), the sequence of the gateway's changes "
        "the audit service had applied without a gap (empty for a cycle drawn before issue 18)"
    )
    dispensation_ids: list[str] = Field(description="The dispensations covering the month that the draw left people out for")


class CaseReasonOut(BaseModel):
    case_id: str
    picked: bool = Field(description="Whether the case was drawn")
    rank: str = Field(description="The case's rank under the seed: hex SHA-256 of `<seed>|case|<case_id>`; the lowest of a choice is drawn")
    auditor_id: str | None = Field(description="Drawn: the auditor whose audit it is")
    basis: str | None = Field(description="Drawn: `line_managed`, `team_cover` or `own_service`")
    reason: str | None = Field(description="Left out: `audited_in_last_12_months`, `not_line_managed_by_an_available_auditor`, "
                               "`lower_precedence` (its rank came after the case drawn from the same choice) or "
                               "`not_child_in_need_protection_or_care` (no drawn case type)")
    outranked_by: str | None = Field(description="`lower_precedence`: the case drawn ahead of it")


class DifferenceOut(BaseModel):
    what: str = Field(description="`inputs`, `assignment`, `awaiting_peer_reviewer`, `idle_auditor`, `uncovered_team`, `case` or `eligible_cases`")
    id: str = Field(description="The auditor, team or case it is about (the cycle for `inputs` and `eligible_cases`)")
    stored: dict[str, Any] | None = Field(description="What the cycle recorded (null: not recorded)")
    redrawn: dict[str, Any] | None = Field(description="What the re-draw gives (null: nothing)")


class VerificationOut(BaseModel):
    cycle_id: str
    seed: str
    inputs_digest: str = Field(description="The digest the cycle recorded of its inputs")
    reproduced: bool = Field(description="The re-draw from the recorded seed, settings and inputs gives the stored sample, every reason included")
    inputs_recorded: bool = Field(description="False for a cycle drawn before its inputs were recorded (it cannot be re-drawn)")
    inputs_digest_matches: bool = Field(description="The recorded inputs still have the digest the cycle recorded")
    recorded_inputs_digest: str | None = Field(description="The digest of the recorded inputs as they are now (null when none were recorded)")
    differences_total: int
    differences: list[DifferenceOut] = Field(description="What differs, the first 200")


class PreviewIn(InputModel):
    tool_id: str | None = Field(default=None, min_length=1, max_length=64, description="The programme's tool (defaults to the first configured)")
    seed: Seed | None = Field(default=None, description="Draw with this seed; generated when absent")


class PreviewAssignmentOut(BaseModel):
    auditor_id: str
    case_id: str
    case_type: str
    team_id: str
    peer_reviewer_id: str | None
    basis: str


class PreviewOut(BaseModel):
    tool_id: str
    tool_version: int
    month: str
    seed: str
    inputs_digest: str
    own_service_fallback: bool
    peer_review: bool
    eligible_cases: int
    assignments: list[PreviewAssignmentOut]
    uncovered_teams: list[UncoveredTeamOut]
    idle_auditors: list[IdleAuditorOut]
    dispensed_ids: list[str]
    awaiting_peer_reviewer: list[str]
    reasons: dict[str, int] = Field(description="How many cases for each reason: drawn by basis (`line_managed`, `team_cover`, `own_service`) "
                                    "and left out by reason")
    directory_version: dict[str, int]
    dispensation_ids: list[str]


class CycleSummaryOut(BaseModel):
    cycle_id: str
    tool_id: str
    month: str
    seed: str
    drawn_by: str
    drawn_at: datetime
    audits: int


class AssignmentOut(BaseModel):
    auditor_id: str
    case_id: str
    case_type: str
    team_id: str
    peer_reviewer_id: str | None = Field(description="Null while the audit awaits a peer reviewer from QA staff")
    basis: str = Field(description="`line_managed` (a case the auditor line-manages, Kent 2), `team_cover` (a team none of whose cases "
                       "was drawn) or `own_service` (the programme's fallback: a case of the auditor's own service they do not manage)")
    allocation_key: str
    audit_id: str | None = Field(description="The audit, once allocated")


class PeerReviewerIn(InputModel):
    peer_reviewer_id: PersonId


class ScheduledDrawIn(InputModel):
    today: date | None = Field(default=None, description="The day to draw as of (defaults to today)")


class ScheduledDrawOut(BaseModel):
    drawn: list[str]


def _settings(runtime: RuntimeDep) -> cycles.CycleSettings:
    return runtime.extra["cycle_settings"]


def _tool(runtime: RuntimeDep, tool_id: str | None) -> str:
    return tool_id or _settings(runtime).tools[0]


def _qa(caller: CurrentPerson) -> None:
    if PROGRAMME_ROLES.isdisjoint(caller.roles):
        raise NotAllowed("Monthly cycles are read and drawn by QA staff and administrators.")


async def _cycle_out(runtime: RuntimeDep, cycle: Cycle) -> CycleOut:
    tt = cycle.timetable
    failures = await cycle_store.failures(runtime.db, cycle.id)
    return CycleOut(
        cycle_id=cycle.id, tool_id=cycle.tool_id, tool_version=cycle.tool_version, programme=cycle.programme.value, month=str(cycle.month),
        seed=cycle.sample.seed, inputs_digest=cycle.sample.inputs_digest, drawn_by=cycle.drawn_by, drawn_at=cycle.drawn_at,
        timetable=TimetableOut(draw_on=tt.draw_on, month_starts=tt.month_starts, digest_on=tt.digest_on, due_on=tt.due_on, auditor_reminders=tt.auditor_reminders),
        audits=len(cycle.sample.assignments), allocated=await store.count_allocated_with_prefix(runtime.db, f"{cycle.id}:"),
        failed=len(failures), eligible_cases=cycle.sample.eligible_cases, uncovered_team_ids=cycle.sample.uncovered_team_ids,
        dispensed_ids=cycle.sample.dispensed_ids, idle_auditor_ids=cycle.sample.idle_auditor_ids, version=cycle.version,
        uncovered_teams=[UncoveredTeamOut(**asdict(t)) for t in cycle.sample.uncovered_teams],
        idle_auditors=[IdleAuditorOut(**asdict(a)) for a in cycle.sample.idle_auditors],
        own_service_fallback=cycle.sample.own_service_fallback, awaiting_peer_reviewer=cycle.sample.awaiting_peer_reviewer,
        failures=[{"auditor_id": f["auditor_id"], "reason": f["reason"], "errors": f.get("errors", [])} for f in failures],
        directory_version=cycle.directory_version, dispensation_ids=cycle.dispensation_ids,
    )


@router.post(
    "/cycles/{month}/draw", response_model=CycleOut, status_code=201,
    summary="Draw the month's sample and allocate it (QA staff); drawing a month already drawn (without a seed, or with its seed) returns it unchanged (200)",
    responses={200: {"description": "Already drawn: the month's cycle, unchanged"}, 403: {"description": "Not QA staff"},
               409: {"description": "The month is over, the programme is not drawn monthly, no peer reviewer is available, or the month "
                                    "was already drawn with another seed (`existing_seed` names it; nothing was applied)"},
               422: {"description": "Unknown tool"}},
)
async def draw_cycle(month: MonthPath, body: DrawIn, caller: CurrentPerson, runtime: RuntimeDep, request: Request, response: Response, key: IdempotencyKeyDep) -> CycleOut:
    tool_id = _tool(runtime, body.tool_id)

    async def draw() -> tuple[Cycle, bool]:
        return await cycles.draw_requested(
            runtime.extra["audit"], tool_id=tool_id, month=Month.parse(month), caller_id=caller.person_id, caller_roles=caller.roles,
            today=local_date(runtime.clock.now()), settings=_settings(runtime), seed=body.seed, key=key,
        )

    async def as_drawn(replayed: str) -> tuple[Cycle, bool]:
        # The same request sent again with its Idempotency-Key: what it drew, as it answered then.
        found = await cycle_store.load_cycle(runtime.db, replayed)
        if found is None:
            raise not_found("Cycle", replayed)
        return found, True

    cycle, created = await create_once(runtime.db, key, response, create=draw, read=as_drawn)
    if not created:
        response.status_code = 200
    response.headers["Location"] = public_path(request, f"/v1/cycles/{cycle.month}?tool_id={cycle.tool_id}")
    return await _cycle_out(runtime, cycle)


def _summary_out(d: dict[str, Any]) -> CycleSummaryOut:
    return CycleSummaryOut(
        cycle_id=d["_id"], tool_id=d["tool_id"], month=d["month"], seed=d["seed"], drawn_by=d["drawn_by"], drawn_at=d["drawn_at"], audits=d.get("audits", 0),
    )


@router.get("/cycles", response_model=Page[CycleSummaryOut], summary="Monthly cycles drawn (QA staff)")
async def list_cycles(caller: CurrentPerson, runtime: RuntimeDep, page: Pagination, tool_id: Annotated[str | None, Query(max_length=64)] = None) -> Page[CycleSummaryOut]:
    _qa(caller)
    docs = await cycle_store.list_cycles(runtime.db, tool_id=tool_id, after=after(page), limit=page.limit + 1)
    return page_of(docs, page, _summary_out)


async def _load(runtime: RuntimeDep, month: str, tool_id: str | None) -> Cycle:
    cycle = await cycle_store.load_cycle(runtime.db, cycle_id(_tool(runtime, tool_id), Month.parse(month)))
    if cycle is None:
        raise not_found("Cycle", month)
    return cycle


@router.get("/cycles/{month}", response_model=CycleOut, summary="A month's cycle: seed, timetable, progress of the allocation (QA staff)", responses={404: {"description": "Not drawn"}})
async def read_cycle(month: MonthPath, caller: CurrentPerson, runtime: RuntimeDep, tool_id: ToolQuery = None) -> CycleOut:
    _qa(caller)
    return await _cycle_out(runtime, await _load(runtime, month, tool_id))


@router.get("/cycles/{month}/assignments", response_model=Page[AssignmentOut], summary="The month's sample, auditor by auditor, with each audit once allocated (QA staff)", responses={404: {"description": "Not drawn"}})
async def list_assignments(month: MonthPath, caller: CurrentPerson, runtime: RuntimeDep, page: Pagination, tool_id: ToolQuery = None) -> Page[AssignmentOut]:
    _qa(caller)
    cycle = await _load(runtime, month, tool_id)
    last = paging.after(page, str, "")
    shown = [a for a in cycle.sample.assignments if a.auditor_id > last][: page.limit + 1]
    keys = [cycle.allocation_key(a.auditor_id) for a in shown[: page.limit]]
    allocated = await store.allocated_with_prefix(runtime.db, f"{cycle.id}:", after=cycle.allocation_key(last) if last else None, limit=len(keys) + 1) if keys else {}
    items = [
        AssignmentOut(**a.__dict__, allocation_key=key, audit_id=allocated.get(key))
        for a, key in zip(shown[: page.limit], keys, strict=True)
    ]
    more = len(shown) > page.limit
    return Page(items=items, next=encode_cursor({"after": shown[page.limit - 1].auditor_id}) if more else None)


@router.put(
    "/cycles/{month}/assignments/{auditor_id}/peer-reviewer", response_model=CycleOut,
    summary="Assign a peer reviewer to an audit awaiting one (QA staff); the audit is then allocated",
    responses={403: {"description": "Not QA staff"}, 404: {"description": "Not drawn"},
               409: {"description": "Not awaiting a peer reviewer, not independent of the auditor, already peer reviewing this month, or on dispensation"},
               412: {"description": "The cycle changed since the If-Match version"}, 422: {"description": "Not an active peer reviewer"},
               428: {"description": "If-Match required"}},
)
async def assign_peer_reviewer(
    month: MonthPath, auditor_id: Annotated[str, Path(min_length=1, max_length=64)], body: PeerReviewerIn, caller: CurrentPerson,
    runtime: RuntimeDep, response: Response, if_match: RequiredIfMatch, tool_id: ToolQuery = None,
) -> CycleOut:
    cycle = await cycles.assign_peer_reviewer(
        runtime.extra["audit"], tool_id=_tool(runtime, tool_id), month=Month.parse(month), auditor_id=auditor_id,
        reviewer_id=body.peer_reviewer_id, caller=caller, expected=if_match,
    )
    response.headers["ETag"] = etag(cycle.version)
    return await _cycle_out(runtime, cycle)


@router.get(
    "/cycles/{month}/cases", response_model=Page[CaseReasonOut],
    summary="Every case the month was drawn from, by case id, with why it was drawn or left out (QA staff)",
    responses={403: {"description": "Not QA staff"}, 404: {"description": "Not drawn"}},
)
async def list_cycle_cases(month: MonthPath, caller: CurrentPerson, runtime: RuntimeDep, page: Pagination, tool_id: ToolQuery = None) -> Page[CaseReasonOut]:
    _qa(caller)
    cycle = await _load(runtime, month, tool_id)
    last = paging.after(page, str)
    found = await cycle_store.case_reasons_after(runtime.db, cycle.id, after=last, limit=page.limit + 1)
    return keyset_page(found, page, lambda r: CaseReasonOut(**asdict(r)), key="case_id")


@router.post(
    "/cycles/{month}/verify", response_model=VerificationOut,
    summary="Re-draw the month from its recorded seed, settings and inputs and say whether that reproduces the stored sample (QA staff; writes nothing)",
    responses={403: {"description": "Not QA staff"}, 404: {"description": "Not drawn"}},
)
async def verify_cycle(month: MonthPath, caller: CurrentPerson, runtime: RuntimeDep, tool_id: ToolQuery = None) -> VerificationOut:
    cycle, found = await cycles.verify_cycle(runtime.extra["audit"], tool_id=_tool(runtime, tool_id), month=Month.parse(month), caller=caller)
    return VerificationOut(
        cycle_id=cycle.id, seed=cycle.sample.seed, inputs_digest=cycle.sample.inputs_digest, reproduced=found.reproduced,
        inputs_recorded=found.inputs_recorded, inputs_digest_matches=found.inputs_digest_matches,
        recorded_inputs_digest=found.recorded_inputs_digest, differences_total=found.differences_total,
        differences=[DifferenceOut(**asdict(d)) for d in found.differences],
    )


@router.post(
    "/cycles/{month}/preview", response_model=PreviewOut,
    summary="A dry run: the sample the month would have if drawn now, with a given or generated seed (QA staff; no cycle, no events)",
    responses={403: {"description": "Not QA staff"}, 409: {"description": "The month is over, the programme is not drawn monthly, or no peer reviewer is available"},
               422: {"description": "Unknown tool"}},
)
async def preview_cycle(month: MonthPath, body: PreviewIn, caller: CurrentPerson, runtime: RuntimeDep) -> PreviewOut:
    tool_id = _tool(runtime, body.tool_id)
    draw = await cycles.preview_cycle(
        runtime.extra["audit"], tool_id=tool_id, month=Month.parse(month), caller=caller, today=local_date(runtime.clock.now()), seed=body.seed,
    )
    sample = draw.sample
    reasons = Counter(r.basis if r.picked else r.reason for r in sample.case_reasons)
    return PreviewOut(
        tool_id=tool_id, tool_version=draw.tool_doc["version"], month=month, seed=sample.seed, inputs_digest=sample.inputs_digest,
        own_service_fallback=sample.own_service_fallback, peer_review=sample.peer_review, eligible_cases=sample.eligible_cases,
        assignments=[PreviewAssignmentOut(**asdict(a)) for a in sample.assignments],
        uncovered_teams=[UncoveredTeamOut(**asdict(t)) for t in sample.uncovered_teams],
        idle_auditors=[IdleAuditorOut(**asdict(a)) for a in sample.idle_auditors],
        dispensed_ids=sample.dispensed_ids, awaiting_peer_reviewer=sample.awaiting_peer_reviewer,
        reasons={str(k): v for k, v in sorted(reasons.items())}, directory_version=draw.directory_version, dispensation_ids=draw.dispensation_ids,
    )


@router.post("/cycles/scheduled-draws", response_model=ScheduledDrawOut, tags=["audit schedule"], summary="Draw every programme's next month that is due (administrators; the scheduler)")
async def scheduled_draws(body: ScheduledDrawIn, caller: CurrentPerson, runtime: RuntimeDep) -> ScheduledDrawOut:
    today = run_day(caller, runtime, body.today, runs="the scheduled draws")
    return ScheduledDrawOut(drawn=await cycles.draw_due_cycles(runtime.extra["audit"], today, _settings(runtime)))


# --- dispensations -----------------------------------------------------------------------------


class DispensationIn(InputModel):
    person_id: PersonId
    reason: DispensationReason
    starts_on: date
    ends_on: date | None = Field(default=None, description="Absent when a secondment is open-ended")
    note: str = Field(default="", max_length=2000)


class DispensationChange(InputModel):
    reason: DispensationReason
    starts_on: date
    ends_on: date | None = None
    note: str = Field(default="", max_length=2000)


class WithdrawalIn(InputModel):
    reason: str = Field(min_length=1, max_length=2000)


class DispensationOut(BaseModel):
    dispensation_id: str
    person_id: str
    reason: DispensationReason
    starts_on: date
    ends_on: date | None
    note: str
    months: list[str] = Field(description="The months it dispenses from (open-ended: those recorded so far)")
    open_ended: bool
    withdrawn: bool
    withdrawal_reason: str
    version: int
    recorded_by: str
    recorded_at: datetime
    updated_by: str
    updated_at: datetime


class DispensationVersionOut(BaseModel):
    version: int
    reason: str
    starts_on: date
    ends_on: date | None
    note: str
    months: list[str]
    withdrawn: bool
    withdrawal_reason: str
    changed_by: str
    changed_at: datetime


DispensationId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[a-f0-9]+$")]
CHANGES: dict[int | str, dict[str, Any]] = {403: {"description": "Not QA staff"}, 404: {"description": "No such dispensation"}, 409: {"description": "Withdrawn"},
           412: {"description": "Changed since the If-Match version"}, 422: {"description": "Not a dispensation"}, 428: {"description": "If-Match required"}}


def _out(d: Dispensation, response: Response | None = None) -> DispensationOut:
    if response is not None:
        response.headers["ETag"] = etag(d.version)
    return DispensationOut(
        dispensation_id=d.id, person_id=d.person_id, reason=d.reason, starts_on=d.starts_on, ends_on=d.ends_on, note=d.note, months=d.months,
        open_ended=d.open_ended, withdrawn=d.withdrawn, withdrawal_reason=d.withdrawal_reason, version=d.version,
        recorded_by=d.recorded_by, recorded_at=d.recorded_at, updated_by=d.updated_by, updated_at=d.updated_at,
    )


def _version_out(d: dict[str, Any]) -> DispensationVersionOut:
    return DispensationVersionOut(
        version=d["version"], reason=d["reason"], starts_on=d["starts_on"], ends_on=d.get("ends_on"), note=d.get("note", ""), months=d.get("months", []),
        withdrawn=d.get("withdrawn", False), withdrawal_reason=d.get("withdrawal_reason", ""), changed_by=d["updated_by"], changed_at=d["updated_at"],
    )


@router.post("/dispensations", response_model=DispensationOut, status_code=201, tags=["dispensations"], summary="Record a dispensation from auditing (QA staff)", responses={403: CHANGES[403], 422: CHANGES[422]})
async def record_dispensation(body: DispensationIn, caller: CurrentPerson, runtime: RuntimeDep, request: Request, response: Response, key: IdempotencyKeyDep) -> DispensationOut:
    ctx = runtime.extra["audit"]
    d = await create_once(
        runtime.db, key, response,
        create=lambda: cycles.record_dispensation(ctx, **body.model_dump(), caller=caller, key=key),
        read=lambda dispensation_id: cycles.read_dispensation(ctx, dispensation_id, caller),
    )
    response.headers["Location"] = public_path(request, f"/v1/dispensations/{d.id}")
    return _out(d, response)


@router.get("/dispensations", response_model=Page[DispensationOut], tags=["dispensations"], summary="Dispensations, by person or by the month they cover (QA staff)")
async def list_dispensations(
    caller: CurrentPerson, runtime: RuntimeDep, page: Pagination,
    person_id: Annotated[str | None, Query(max_length=64)] = None,
    month: Annotated[str | None, Query(pattern=MONTH_PATTERN, description="Only those covering this month")] = None,
) -> Page[DispensationOut]:
    _qa(caller)
    found = await cycle_store.list_dispensations(runtime.db, person_id=person_id, month=month, after=after(page), limit=page.limit + 1)
    return keyset_page(found, page, _out)


@router.get("/dispensations/{dispensation_id}", response_model=DispensationOut, tags=["dispensations"], summary="Read a dispensation (QA staff)", responses={403: CHANGES[403], 404: CHANGES[404]})
async def read_dispensation(dispensation_id: DispensationId, caller: CurrentPerson, runtime: RuntimeDep, response: Response) -> DispensationOut:
    return _out(await cycles.read_dispensation(runtime.extra["audit"], dispensation_id, caller), response)


@router.put("/dispensations/{dispensation_id}", response_model=DispensationOut, tags=["dispensations"], summary="Revise a dispensation (QA staff; the earlier version is kept)", responses=CHANGES)
async def revise_dispensation(dispensation_id: DispensationId, body: DispensationChange, caller: CurrentPerson, runtime: RuntimeDep, response: Response, if_match: RequiredIfMatch) -> DispensationOut:
    d = await cycles.revise_dispensation(runtime.extra["audit"], dispensation_id, **body.model_dump(), caller=caller, expected=if_match)
    return _out(d, response)


@router.post("/dispensations/{dispensation_id}/withdraw", response_model=DispensationOut, tags=["dispensations"], summary="Withdraw a dispensation (QA staff; kept in the history)", responses=CHANGES)
async def withdraw_dispensation(dispensation_id: DispensationId, body: WithdrawalIn, caller: CurrentPerson, runtime: RuntimeDep, response: Response, if_match: RequiredIfMatch) -> DispensationOut:
    d = await cycles.withdraw_dispensation(runtime.extra["audit"], dispensation_id, reason=body.reason, caller=caller, expected=if_match)
    return _out(d, response)


@router.get("/dispensations/{dispensation_id}/history", response_model=Page[DispensationVersionOut], tags=["dispensations"], summary="Every version of a dispensation, oldest first (QA staff)", responses={403: CHANGES[403], 404: CHANGES[404]})
async def dispensation_history(dispensation_id: DispensationId, caller: CurrentPerson, runtime: RuntimeDep, page: Pagination) -> Page[DispensationVersionOut]:
    await cycles.read_dispensation(runtime.extra["audit"], dispensation_id, caller)
    last = paging.after(page, int, 0)
    docs = await cycle_store.dispensation_history(runtime.db, dispensation_id, after=last, limit=page.limit + 1)
    return page_of(docs, page, _version_out, key="version")
