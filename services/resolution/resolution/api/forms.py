"""Routes for resolution forms: raise, read, list, and every change the owner and delegates make.

Each change answers with the whole form as it now is and its new ``ETag``; each needs the
``If-Match`` of the version the caller read, so nobody overwrites work they have not seen.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, TypeAlias, TypeVar

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from shared.app import RuntimeDep
from shared.http import IdPath, Page, Pagination, RequiredIfMatch, etag, public_path
from shared.idempotency import IdempotencyKeyDep, create_once
from shared.identity import CurrentPerson, Identity
from shared.mongo import UnitOfWork
from shared.paging import after, page_of

from .. import store, usecases
from ..domain import FormStatus, ResolutionForm, Stage, StageDates
from ..domain.roles import OVERSIGHT_ROLES
from .schemas import (
    ActivateStagesIn,
    ConcernIn,
    ContactsIn,
    DatesIn,
    DelegateIn,
    FormOut,
    FormSummary,
    HistoryOut,
    RaiseIn,
    ResolutionIn,
    RetractIn,
    SectionIn,
    form_out,
    form_summary,
)

router = APIRouter(prefix="/v1/forms", tags=["resolution forms"])

FormId: TypeAlias = IdPath
StageParam = Annotated[Stage, Path(description="informal, stage-1 … stage-5")]
Endpoint = TypeVar("Endpoint", bound=Callable[..., Any])
CHANGED: dict[int | str, dict[str, Any]] = {412: {"description": "Changed since the If-Match version"}, 403: {"description": "Not allowed"}, 409: {"description": "Not allowed in the form's state"}}


def _answer(form: ResolutionForm, response: Response) -> FormOut:
    response.headers["ETag"] = etag(form.version)
    return form_out(form)


@dataclass(frozen=True)
class FormChange:
    """What every change to a form takes besides its own arguments: who asks, the unit of work, the
    ``If-Match`` version they read, and the answer that carries the form's new ``ETag``."""

    caller: Identity
    uow: UnitOfWork
    if_match: int
    response: Response

    def answer(self, form: ResolutionForm) -> FormOut:
        return _answer(form, self.response)


def form_change(caller: CurrentPerson, runtime: RuntimeDep, response: Response, if_match: RequiredIfMatch) -> FormChange:
    return FormChange(caller, runtime.uow, if_match, response)


Change = Annotated[FormChange, Depends(form_change)]


def _changes(method: str, path: str, summary: str) -> Callable[[Endpoint], Endpoint]:
    """Declares a route that changes a form: it answers the whole form as it now is (``FormChange``)."""
    return router.api_route(path, methods=[method], response_model=FormOut, summary=summary, responses=CHANGED)


@router.post("", response_model=FormOut, status_code=201, summary="Raise a resolution about a child's case", responses={201: {"description": "Raised"}})
async def raise_form(body: RaiseIn, caller: CurrentPerson, runtime: RuntimeDep, http_request: Request, response: Response, key: IdempotencyKeyDep) -> FormOut:
    request = usecases.RaiseRequest(
        case_id=body.case_id, concerns=[(c.theme_id, c.detail) for c in body.concerns], raised_as=body.raised_as,
        first_stage=body.first_stage if body.stages is None or "first_stage" in body.model_fields_set else None,
        team_manager_id=body.team_manager_id, allocated_worker_id=body.allocated_worker_id,
        stages=None if body.stages is None else tuple(body.stages),
    )
    form = await create_once(
        runtime.db, key, response,
        create=lambda: usecases.raise_resolution(runtime.uow, request, caller=caller, idempotency=key),
        read=lambda existing: usecases.read_form(runtime.db, existing, caller),
    )
    response.headers["Location"] = public_path(http_request, f"/v1/forms/{form.id}")
    return _answer(form, response)


@router.get("", response_model=Page[FormSummary], summary="List resolution forms (yours, or all for QA and senior managers)")
async def list_forms(
    caller: CurrentPerson,
    runtime: RuntimeDep,
    page: Pagination,
    case_id: Annotated[str | None, Query(max_length=64)] = None,
    status: FormStatus | None = None,
    mine: Annotated[bool, Query(description="Only forms you own or hold a section of")] = False,
) -> Page[FormSummary]:
    everyone = not mine and not caller.roles.isdisjoint(OVERSIGHT_ROLES)
    docs = await store.list_forms(
        runtime.db, participant=None if everyone else caller.person_id, case_id=case_id,
        status=status.value if status else None, after=after(page, str), limit=page.limit + 1,
    )
    return page_of(docs, page, form_summary)


@router.get("/{form_id}", response_model=FormOut, summary="Read a resolution form as it is now")
async def get_form(form_id: FormId, caller: CurrentPerson, runtime: RuntimeDep, response: Response) -> FormOut:
    # Read from the database every time: the owner always sees what delegates last saved.
    response.headers["Cache-Control"] = "no-store"
    return _answer(await usecases.read_form(runtime.db, form_id, caller), response)


@router.get("/{form_id}/history", response_model=Page[HistoryOut], summary="Every change to a form: who, when, what")
async def form_history(form_id: FormId, caller: CurrentPerson, runtime: RuntimeDep, page: Pagination) -> Page[HistoryOut]:
    await usecases.read_form(runtime.db, form_id, caller)
    return await _history_page(runtime, form_id, page, part=None, stage=None)


@router.get(
    "/{form_id}/stages/{stage}/section/history", response_model=Page[HistoryOut],
    summary="A section's history: every delegation, every draft saved, finalise, reactivate, retract (with the draft kept)",
)
async def section_history(form_id: FormId, stage: StageParam, caller: CurrentPerson, runtime: RuntimeDep, page: Pagination) -> Page[HistoryOut]:
    await usecases.read_form(runtime.db, form_id, caller)
    return await _history_page(runtime, form_id, page, part="section", stage=stage.value)


async def _history_page(runtime: RuntimeDep, form_id: str, page: Pagination, *, part: str | None, stage: str | None) -> Page[HistoryOut]:
    docs = await store.history(runtime.db, form_id, part=part, stage=stage, after_version=after(page, int, 0), limit=page.limit + 1)
    return page_of(docs, page, _history_entry, key="version")


def _history_entry(d: dict[str, Any]) -> HistoryOut:
    return HistoryOut(version=d["version"], action=d["action"], part=d["part"], stage=d["stage"], by=d["by"], at=d["at"], details=d["details"])


@_changes("POST", "/{form_id}/concerns", "Add a concern (owner)")
async def add_concern(form_id: FormId, body: ConcernIn, change: Change) -> FormOut:
    form = await usecases.add_concern(change.uow, form_id, body.theme_id, body.detail, caller=change.caller, if_match=change.if_match)
    return change.answer(form)


@_changes(
    "PUT", "/{form_id}/case-contacts",
    "Record a team manager or allocated worker the directory lacks (owner); reported to the directory",
)
async def set_case_contacts(form_id: FormId, body: ContactsIn, change: Change) -> FormOut:
    form = await usecases.report_case_contacts(
        change.uow, form_id, team_manager_id=body.team_manager_id, allocated_worker_id=body.allocated_worker_id, caller=change.caller, if_match=change.if_match
    )
    return change.answer(form)


@_changes(
    "POST", "/{form_id}/stages",
    "Activate one or more further stages at once (owner); each has its own dates, section and resolution details",
)
async def activate_stages(form_id: FormId, body: ActivateStagesIn, change: Change) -> FormOut:
    form = await usecases.activate_stages(change.uow, form_id, body.stages, caller=change.caller, if_match=change.if_match)
    return change.answer(form)


@_changes("PUT", "/{form_id}/stages/{stage}/dates", "Record a stage's dates (owner)")
async def set_stage_dates(form_id: FormId, stage: StageParam, body: DatesIn, change: Change) -> FormOut:
    dates = StageDates(body.raised_on, body.response_due_on, body.response_received_on)
    form = await usecases.record_stage_dates(change.uow, form_id, stage, dates, caller=change.caller, if_match=change.if_match)
    return change.answer(form)


@_changes(
    "POST", "/{form_id}/stages/{stage}/section/delegation",
    "Delegate the stage's section to one person (owner); re-delegating recalls it from the previous delegate",
)
async def delegate_section(form_id: FormId, stage: StageParam, body: DelegateIn, change: Change) -> FormOut:
    form = await usecases.delegate_section(change.uow, form_id, stage, body.delegate_id, due_on=body.due_on, caller=change.caller, if_match=change.if_match)
    return change.answer(form)


@_changes(
    "PUT", "/{form_id}/stages/{stage}/section",
    "Save the section's response as a draft (the delegate while delegated, else the owner)",
)
async def save_section(form_id: FormId, stage: StageParam, body: SectionIn, change: Change) -> FormOut:
    form = await usecases.save_section(change.uow, form_id, stage, body.response, caller=change.caller, if_match=change.if_match)
    return change.answer(form)


@_changes("POST", "/{form_id}/stages/{stage}/section/finalise", "Finalise the section: it becomes read-only")
async def finalise_section(form_id: FormId, stage: StageParam, change: Change) -> FormOut:
    return change.answer(await usecases.finalise_section(change.uow, form_id, stage, caller=change.caller, if_match=change.if_match))


@_changes("POST", "/{form_id}/stages/{stage}/section/reactivate", "Reactivate a finalised section (owner)")
async def reactivate_section(form_id: FormId, stage: StageParam, change: Change) -> FormOut:
    return change.answer(await usecases.reactivate_section(change.uow, form_id, stage, caller=change.caller, if_match=change.if_match))


@_changes(
    "POST", "/{form_id}/stages/{stage}/section/retract",
    "Retract an active delegated section with a reason and a note (owner); the delegate's draft is kept",
)
async def retract_section(form_id: FormId, stage: StageParam, body: RetractIn, change: Change) -> FormOut:
    form = await usecases.retract_section(change.uow, form_id, stage, reason=body.reason, note=body.note, caller=change.caller, if_match=change.if_match)
    return change.answer(form)


@_changes(
    "PUT", "/{form_id}/stages/{stage}/resolution",
    "Record the resolution details at the end of a stage (owner): resolved with the impact, or escalate / close unresolved",
)
async def record_resolution(form_id: FormId, stage: StageParam, body: ResolutionIn, change: Change) -> FormOut:
    details = usecases.ResolutionDetails(body.resolved, body.impact, body.next_step, body.escalate_to, body.close_reason, body.closing_reason_id)
    return change.answer(await usecases.record_resolution(change.uow, form_id, stage, details, caller=change.caller, if_match=change.if_match))
