"""HTTP routes of Hampshire's monthly quality practice audit.

A person not party to a prepared file gets 404 (its existence is not theirs to know); a party
asking for what is not theirs to do gets 403. Edits carry If-Match; creating POSTs take an
Idempotency-Key.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, TypeAlias

from fastapi import APIRouter, Path, Query, Request, Response
from pydantic import BaseModel, Field
from shared.app import RuntimeDep
from shared.errors import Problem, field_errors, forbidden, not_found
from shared.http import RequiredIfMatch, etag, public_path
from shared.idempotency import IdempotencyKeyDep, create_id_once, create_once
from shared.identity import CurrentPerson
from shared.ids import IdField

from ..common.api_params import MONTH_PATTERN, RecordIdPath
from ..common.responses import change_responses
from ..common.roles import Role
from ..common.schemas import InputModel
from . import store, usecases
from .domain.errors import AlreadyPrepared, DelegationNotVisible, FileNotVisible, SelectionRefused
from .domain.prepared_file import Delegation, DisagreementOutcome, FileStatus, PreparedFile
from .schemas import AuditorWork, Preparation, preparation_of, work_of

router = APIRouter(prefix="/v1/hampshire", tags=["hampshire"])

Id: TypeAlias = IdField
FileId = RecordIdPath
MonthPath = Annotated[str, Path(pattern=MONTH_PATTERN, description="The audit month, YYYY-MM")]
CHANGES = change_responses(
    missing="No such file, or not party to it", forbidden="Party to the file, but this is not theirs to do",
    conflict="The file is not at a stage where this can happen", stale="The file changed since the If-Match version",
    invalid="Invalid entries, or gaps (every one listed)",
)


def _already_prepared(exc: Exception) -> Problem:
    assert isinstance(exc, AlreadyPrepared)
    return Problem(409, "already-prepared", "A file is already prepared this month", str(exc), file_id=exc.file_id or None)


#: Mapped to problem+json by the app (``main.DOMAIN_ERRORS``).
ERRORS = {
    FileNotVisible: lambda e: not_found("Prepared file", str(e)),
    DelegationNotVisible: lambda e: not_found("Delegation", str(e)),
    AlreadyPrepared: _already_prepared,
    SelectionRefused: lambda e: Problem(409, "selection-incomplete", "The selection cannot be closed", str(e), errors=field_errors(e.errors, default_code="incomplete")),
    store.SelectionAlreadyClosed: lambda e: Problem(409, "wrong-stage", "Not at this stage", "The selection for this month is already closed."),
}


class FileCreate(InputModel):
    month: str = Field(pattern=MONTH_PATTERN, description="The month the file is prepared for, YYYY-MM")
    case_id: Id
    worker_id: Id | None = Field(default=None, description="The worker whose file it is (defaults to the caller; the supervisor names their worker)")


class StandardOut(BaseModel):
    key: str
    text: str
    section: str
    choices: list[str]


class DisagreementOut(BaseModel):
    """10.5: standards the auditor judged not met that the team/unit manager said were, raised with them."""

    standards: list[str]
    auditor_id: str
    team_manager_id: str
    raised_at: datetime
    outcome: DisagreementOutcome | None
    notes: str
    settled_by: str | None
    settled_at: datetime | None


class DisagreementOutcomeIn(InputModel):
    outcome: DisagreementOutcome = Field(description="agreed: the team/unit manager accepts the judgement; not_agreed: they do not (the auditor's judgement stands)")
    notes: str = Field(min_length=1, max_length=8000, description="What was discussed with the auditor and what will be done")


class FileOut(BaseModel):
    id: str
    version: int
    month: str
    case_id: str
    team_id: str
    worker_id: str
    supervisor_id: str
    service_manager_id: str
    tool_id: str
    tool_version: int
    status: FileStatus
    standards: list[StandardOut]
    preparation: Preparation
    prepared_by: str | None
    prepared_at: datetime | None
    ready_list_id: str | None
    selected_by: str | None
    selected_at: datetime | None
    auditor_id: str | None
    delegation_id: str | None
    delegated_by: str | None
    #: The auditor's judgements: shown to others once the audit is complete.
    work: AuditorWork | None
    audited_at: datetime | None
    not_selected_at: datetime | None
    disagreement: DisagreementOut | None = None
    created_by: str
    created_at: datetime
    updated_by: str | None
    updated_at: datetime | None


class FileSummaryOut(BaseModel):
    id: str
    case_id: str
    worker_id: str
    supervisor_id: str
    status: FileStatus
    auditor_id: str | None
    delegated_by: str | None
    href: str


class TeamFilesOut(BaseModel):
    team_id: str
    ready: int = Field(description="Files prepared and put forward (ready, selected, audited or not selected)")
    in_preparation: int
    files: list[FileSummaryOut]


class DelegationIn(InputModel):
    month: str = Field(pattern=MONTH_PATTERN)
    delegate_id: Id
    team_ids: list[Id] = Field(min_length=1, max_length=50)


class DelegationOut(BaseModel):
    id: str
    month: str
    service_manager_id: str
    delegate_id: str
    team_ids: list[str]
    by: str
    at: datetime


class MonthOut(BaseModel):
    month: str
    service_manager_id: str
    teams: list[TeamFilesOut]
    delegations: list[DelegationOut]
    selection_closed_at: datetime | None


class SelectionIn(InputModel):
    file_ids: list[Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9-]+$")]] = Field(min_length=1, max_length=200)


class SelectionOut(BaseModel):
    month: str
    selected: list[FileSummaryOut]


class ClosedSelectionOut(BaseModel):
    month: str
    service_manager_id: str
    selected: list[dict[str, Any]]
    not_selected_file_ids: list[str]
    closed_by: str
    closed_at: datetime


class ReadyListsOut(BaseModel):
    list_ids: list[str]


class HistoryOut(BaseModel):
    part: str
    number: int
    by: str
    at: datetime
    content: dict[str, Any]


class WorkerWithoutFileOut(BaseModel):
    worker_id: str
    team_id: str
    supervisor_id: str | None
    file_id: str | None = Field(description="The worker's file still in preparation, if one was started")
    status: str = Field(description="no_file, or in_preparation (started, not put forward)")


class WorkersWithoutFileOut(BaseModel):
    """4.1: each month one file per worker must be put forward for audit; these put none forward."""

    month: str
    team_ids: list[str]
    workers: list[WorkerWithoutFileOut]


class QuarterMonthOut(BaseModel):
    month: str
    prepared: int
    selected: int
    audited: int


class QuarterlyReportOut(BaseModel):
    """14.3: the monthly collations of a calendar quarter, reported together."""

    quarter: str
    months: list[QuarterMonthOut]
    prepared: int
    selected: int
    audited: int
    teams: list[dict[str, Any]]
    standards: list[dict[str, Any]]


class CollationOut(BaseModel):
    month: str
    prepared: int
    selected: int
    audited: int
    teams: list[dict[str, Any]]
    standards: list[dict[str, Any]]
    audits: list[dict[str, Any]]


def file_out(f: PreparedFile, caller_id: str) -> FileOut:
    judgements_shown = f.status is FileStatus.AUDITED or caller_id in (f.auditor_id, f.service_manager_id)
    return FileOut(
        id=f.id, version=f.version, month=f.month, case_id=f.case_id, team_id=f.team_id, worker_id=f.worker_id,
        supervisor_id=f.supervisor_id, service_manager_id=f.service_manager_id, tool_id=f.tool_id, tool_version=f.tool_version,
        status=f.status, standards=[StandardOut(key=s.key, text=s.text, section=s.section, choices=list(s.choices)) for s in f.standards],
        preparation=Preparation.model_validate(f.preparation), prepared_by=f.prepared_by, prepared_at=f.prepared_at, ready_list_id=f.ready_list_id,
        selected_by=f.selected_by, selected_at=f.selected_at, auditor_id=f.auditor_id, delegation_id=f.delegation_id,
        delegated_by=f.delegated_by, work=AuditorWork.model_validate(f.work) if judgements_shown else None, audited_at=f.audited_at,
        not_selected_at=f.not_selected_at, disagreement=_disagreement_out(f), created_by=f.created_by, created_at=f.created_at, updated_by=f.updated_by, updated_at=f.updated_at,
    )


def _disagreement_out(f: PreparedFile) -> DisagreementOut | None:
    d = f.disagreement
    if d is None:
        return None
    return DisagreementOut(
        standards=list(d.standards), auditor_id=d.auditor_id, team_manager_id=d.team_manager_id, raised_at=d.raised_at, outcome=d.outcome,
        notes=d.notes, settled_by=d.settled_by, settled_at=d.settled_at,
    )


def _summary(request: Request, f: PreparedFile) -> FileSummaryOut:
    return FileSummaryOut(
        id=f.id, case_id=f.case_id, worker_id=f.worker_id, supervisor_id=f.supervisor_id, status=f.status, auditor_id=f.auditor_id,
        delegated_by=f.delegated_by, href=public_path(request, f"/v1/hampshire/files/{f.id}"),
    )


def _delegation_out(d: Delegation) -> DelegationOut:
    return DelegationOut(id=d.id, month=d.month, service_manager_id=d.service_manager_id, delegate_id=d.delegate_id, team_ids=list(d.team_ids), by=d.by, at=d.at)


def _answer(f: PreparedFile, caller_id: str, response: Response) -> FileOut:
    response.headers["ETag"] = etag(f.version)
    return file_out(f, caller_id)


# --- files ----------------------------------------------------------------------------------------


@router.post("/files", response_model=FileOut, status_code=201, summary="Start preparing the month's file (the worker or their supervisor)", responses={403: CHANGES[403], 409: {"description": "The worker already has a file this month"}, 422: {"description": "Unknown case or worker, or last month's file again"}})
async def prepare_file(body: FileCreate, caller: CurrentPerson, runtime: RuntimeDep, request: Request, response: Response, key: IdempotencyKeyDep) -> FileOut:
    file_id = await create_id_once(
        runtime.db, key, response,
        lambda: usecases.prepare_file(runtime.extra["audit"], month=body.month, case_id=body.case_id, worker_id=body.worker_id, caller=caller, key=key),
    )
    f = await usecases.read_file(runtime.db, file_id, caller)
    response.headers["Location"] = public_path(request, f"/v1/hampshire/files/{f.id}")
    return _answer(f, caller.person_id, response)


@router.get("/files/{file_id}", response_model=FileOut, summary="Read a prepared file (its parties, delegate and QA staff)", responses={404: CHANGES[404]})
async def read_file(file_id: FileId, caller: CurrentPerson, runtime: RuntimeDep, response: Response) -> FileOut:
    return _answer(await usecases.read_file(runtime.db, file_id, caller), caller.person_id, response)


@router.get("/files/{file_id}/history", response_model=list[HistoryOut], summary="Every save of the evidence list (and of the judgements, to the auditor)", responses={404: CHANGES[404]})
async def file_history(file_id: FileId, caller: CurrentPerson, runtime: RuntimeDep) -> list[HistoryOut]:
    return [HistoryOut(**d) for d in await usecases.file_history(runtime.db, file_id, caller)]


@router.put("/files/{file_id}/preparation", response_model=FileOut, summary="Save the evidence per standard (the worker or their supervisor)", responses=CHANGES)
async def save_preparation(file_id: FileId, body: Preparation, caller: CurrentPerson, runtime: RuntimeDep, response: Response, if_match: RequiredIfMatch) -> FileOut:
    f = await usecases.save_preparation(runtime.extra["audit"], file_id, preparation_of(body), caller=caller, expected=if_match)
    return _answer(f, caller.person_id, response)


@router.post("/files/{file_id}/ready", response_model=FileOut, summary="The file is prepared and ready for audit (refused with every standard not covered)", responses=CHANGES)
async def mark_file_ready(file_id: FileId, caller: CurrentPerson, runtime: RuntimeDep, response: Response, if_match: RequiredIfMatch) -> FileOut:
    f = await usecases.mark_ready(runtime.extra["audit"], file_id, caller=caller, expected=if_match)
    return _answer(f, caller.person_id, response)


@router.put("/files/{file_id}/judgements", response_model=FileOut, summary="Save the auditor's judgement per standard (Yes / No / N/A) and comments", responses=CHANGES)
async def save_judgements(file_id: FileId, body: AuditorWork, caller: CurrentPerson, runtime: RuntimeDep, response: Response, if_match: RequiredIfMatch) -> FileOut:
    f = await usecases.save_judgements(runtime.extra["audit"], file_id, work_of(body), caller=caller, expected=if_match)
    return _answer(f, caller.person_id, response)


@router.post("/files/{file_id}/complete", response_model=FileOut, summary="Complete the audit (the auditor; refused with every gap listed)", responses=CHANGES)
async def complete_file(file_id: FileId, caller: CurrentPerson, runtime: RuntimeDep, response: Response, if_match: RequiredIfMatch) -> FileOut:
    f = await usecases.complete_audit(runtime.extra["audit"], file_id, caller=caller, expected=if_match)
    return _answer(f, caller.person_id, response)


@router.post("/files/{file_id}/disagreement/outcome", response_model=FileOut, summary="Record the outcome of a disagreement the auditor raised (the team/unit manager; 10.5)", responses=CHANGES)
async def settle_disagreement(file_id: FileId, body: DisagreementOutcomeIn, caller: CurrentPerson, runtime: RuntimeDep, response: Response, if_match: RequiredIfMatch) -> FileOut:
    f = await usecases.settle_disagreement(runtime.extra["audit"], file_id, outcome=body.outcome.value, notes=body.notes, caller=caller, expected=if_match)
    return _answer(f, caller.person_id, response)


# --- the month ------------------------------------------------------------------------------------


@router.get("/months/{month}", response_model=MonthOut, summary="The service manager's month: files ready per team (QA staff: ?service_manager_id=)", responses={403: {"description": "Neither the service manager, their delegate nor QA staff"}})
async def hampshire_month(
    month: MonthPath, caller: CurrentPerson, runtime: RuntimeDep, request: Request,
    service_manager_id: Annotated[str | None, Query(max_length=64, description="QA staff: whose month")] = None,
) -> MonthOut:
    view = await usecases.month_view(runtime.db, month, caller, service_manager_id)
    teams = [
        TeamFilesOut(
            team_id=team_id, ready=sum(f.status is not FileStatus.PREPARING for f in files),
            in_preparation=sum(f.status is FileStatus.PREPARING for f in files),
            files=[_summary(request, f) for f in files if f.status is not FileStatus.PREPARING],
        )
        for team_id, files in sorted(view["teams"].items())
    ]
    return MonthOut(
        month=month, service_manager_id=view["service_manager_id"], teams=teams,
        delegations=[_delegation_out(d) for d in view["delegations"]], selection_closed_at=view["selection_closed_at"],
    )


@router.post("/months/{month}/ready-lists", response_model=ReadyListsOut, summary="Send each service manager the list of files ready (QA staff, administrators; the scheduler)", responses={403: {"description": "Not QA staff"}})
async def send_ready_lists(month: MonthPath, caller: CurrentPerson, runtime: RuntimeDep) -> ReadyListsOut:
    if not caller.has_role(Role.QA_OFFICER, Role.LEAD_QA_AUDITOR, Role.ADMINISTRATOR):
        raise forbidden("Only QA staff and administrators (or the scheduler) send the lists of files ready for audit.")
    return ReadyListsOut(list_ids=await usecases.send_ready_lists(runtime.extra["audit"], month, by=caller.person_id))


@router.post("/delegations", response_model=DelegationOut, status_code=201, summary="Delegate a month's audit of some teams to a competent person (the service manager)", responses={403: {"description": "Not the teams' service manager"}, 422: {"description": "Unknown team or delegate"}})
async def delegate_preparation(body: DelegationIn, caller: CurrentPerson, runtime: RuntimeDep, request: Request, response: Response, key: IdempotencyKeyDep) -> DelegationOut:
    d = await create_once(
        runtime.db, key, response,
        create=lambda: usecases.delegate(runtime.extra["audit"], month=body.month, delegate_id=body.delegate_id, team_ids=body.team_ids, caller=caller, key=key),
        read=lambda delegation_id: usecases.delegation(runtime.db, delegation_id, caller),
    )
    response.headers["Location"] = public_path(request, f"/v1/hampshire/delegations/{d.id}")
    return _delegation_out(d)


@router.get("/delegations/{delegation_id}", response_model=DelegationOut, summary="Read a delegation (the service manager, the delegate, QA staff)", responses={404: {"description": "No such delegation, or not party to it"}})
async def read_delegation(delegation_id: FileId, caller: CurrentPerson, runtime: RuntimeDep) -> DelegationOut:
    return _delegation_out(await usecases.delegation(runtime.db, delegation_id, caller))


@router.post("/months/{month}/selections", response_model=SelectionOut, summary="Select files for audit (the service manager, or their delegate for the delegated teams)", responses=CHANGES)
async def select_files(month: MonthPath, body: SelectionIn, caller: CurrentPerson, runtime: RuntimeDep, request: Request) -> SelectionOut:
    files = await usecases.select_files(runtime.extra["audit"], month, body.file_ids, caller=caller)
    return SelectionOut(month=month, selected=[_summary(request, f) for f in files])


@router.post("/months/{month}/selection/close", response_model=ClosedSelectionOut, summary="Close the month's selection (the service manager; refused listing the teams without a file)", responses={403: CHANGES[403], 409: {"description": "A team has no file selected, or already closed"}})
async def close_selection(month: MonthPath, caller: CurrentPerson, runtime: RuntimeDep) -> ClosedSelectionOut:
    doc = await usecases.close_selection(runtime.extra["audit"], month, caller=caller)
    return ClosedSelectionOut(**{k: v for k, v in doc.items() if k != "_id"})


@router.get("/collation", response_model=CollationOut, summary="The month's collation for the performance management unit (and QA staff)", responses={403: {"description": "Not the performance management unit nor QA staff"}})
async def hampshire_collation(
    caller: CurrentPerson, runtime: RuntimeDep, month: Annotated[str, Query(pattern=MONTH_PATTERN, description="YYYY-MM")],
) -> CollationOut:
    return CollationOut(**await usecases.collation(runtime.db, month, caller))


@router.get("/months/{month}/workers-without-file", response_model=WorkersWithoutFileOut, summary="The workers who put no file forward for the month (4.1)", responses={403: {"description": "Not a service manager, the performance management unit nor QA staff"}})
async def workers_without_file(month: MonthPath, caller: CurrentPerson, runtime: RuntimeDep) -> WorkersWithoutFileOut:
    view = await usecases.without_file(runtime.db, month, caller)
    return WorkersWithoutFileOut(month=month, team_ids=view["team_ids"], workers=[WorkerWithoutFileOut(**w) for w in view["workers"]])


@router.get("/quarterly-reports/{quarter}", response_model=QuarterlyReportOut, summary="The quarter's report of the monthly collations (14.3; the performance management unit and QA staff)", responses={403: {"description": "Not the performance management unit nor QA staff"}})
async def hampshire_quarterly_report(
    quarter: Annotated[str, Path(pattern=r"^(19|2[0-9])[0-9]{2}-Q[1-4]$", description="A calendar quarter, e.g. 2026-Q4")], caller: CurrentPerson, runtime: RuntimeDep,
) -> QuarterlyReportOut:
    return QuarterlyReportOut(**await usecases.quarterly(runtime.db, quarter, caller))
