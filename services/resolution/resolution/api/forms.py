"""Routes for resolution forms: raise, read, list, and every change the owner and delegates make.

Each change answers with the whole form as it now is and its new ``ETag``; each needs the
``If-Match`` of the version the caller read, so nobody overwrites work they have not seen.
"""

from __future__ import annotations

from typing import Annotated, Any, TypeAlias

from fastapi import APIRouter, Path, Query, Request, Response
from shared.app import RuntimeDep
from shared.errors import Problem
from shared.http import IdPath, Page, Pagination, RequiredIfMatch, encode_cursor, etag, public_path
from shared.idempotency import REPLAYED_HEADER, IdempotencyKeyDep, KeyAlreadyUsed, previously_created
from shared.identity import CurrentPerson

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
CHANGED: dict[int | str, dict[str, Any]] = {412: {"description": "Changed since the If-Match version"}, 403: {"description": "Not allowed"}, 409: {"description": "Not allowed in the form's state"}}


def _answer(form: ResolutionForm, response: Response) -> FormOut:
    response.headers["ETag"] = etag(form.version)
    return form_out(form)


@router.post("", response_model=FormOut, status_code=201, summary="Raise a resolution about a child's case", responses={201: {"description": "Raised"}})
async def raise_form(body: RaiseIn, caller: CurrentPerson, runtime: RuntimeDep, http_request: Request, response: Response, key: IdempotencyKeyDep) -> FormOut:
    if key is not None and (existing := await previously_created(runtime.db, key)):
        response.headers[REPLAYED_HEADER] = "true"
        form = await usecases.read_form(runtime.db, existing, caller)
    else:
        request = usecases.RaiseRequest(
            case_id=body.case_id, concerns=[(c.theme_id, c.detail) for c in body.concerns], raised_as=body.raised_as,
            first_stage=body.first_stage if body.stages is None or "first_stage" in body.model_fields_set else None,
            team_manager_id=body.team_manager_id, allocated_worker_id=body.allocated_worker_id,
            stages=None if body.stages is None else tuple(body.stages),
        )
        try:
            form = await usecases.raise_resolution(runtime.uow, request, caller=caller, idempotency=key)
        except KeyAlreadyUsed as used:
            response.headers[REPLAYED_HEADER] = "true"
            form = await usecases.read_form(runtime.db, used.resource_id, caller)
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
    after = page.cursor.get("after") if page.cursor else None
    if after is not None and not isinstance(after, str):
        raise Problem(400, "bad-cursor", "Malformed cursor", "Pass back the 'next' value of the previous page unchanged.")
    docs = await store.list_forms(
        runtime.db, participant=None if everyone else caller.person_id, case_id=case_id,
        status=status.value if status else None, after=after, limit=page.limit + 1,
    )
    items = [form_summary(d) for d in docs[: page.limit]]
    return Page(items=items, next=encode_cursor({"after": docs[page.limit - 1]["_id"]}) if len(docs) > page.limit else None)


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
    after = page.cursor.get("after", 0) if page.cursor else 0
    if not isinstance(after, int):
        raise Problem(400, "bad-cursor", "Malformed cursor", "Pass back the 'next' value of the previous page unchanged.")
    docs = await store.history(runtime.db, form_id, part=part, stage=stage, after_version=after, limit=page.limit + 1)
    items = [
        HistoryOut(version=d["version"], action=d["action"], part=d["part"], stage=d["stage"], by=d["by"], at=d["at"], details=d["details"])
        for d in docs[: page.limit]
    ]
    return Page(items=items, next=encode_cursor({"after": docs[page.limit - 1]["version"]}) if len(docs) > page.limit else None)


@router.post("/{form_id}/concerns", response_model=FormOut, summary="Add a concern (owner)", responses=CHANGED)
async def add_concern(form_id: FormId, body: ConcernIn, caller: CurrentPerson, runtime: RuntimeDep, response: Response, if_match: RequiredIfMatch) -> FormOut:
    form = await usecases.add_concern(runtime.uow, form_id, body.theme_id, body.detail, caller=caller, if_match=if_match)
    return _answer(form, response)


@router.put(
    "/{form_id}/case-contacts", response_model=FormOut, responses=CHANGED,
    summary="Record a team manager or allocated worker the directory lacks (owner); reported to the directory",
)
async def set_case_contacts(form_id: FormId, body: ContactsIn, caller: CurrentPerson, runtime: RuntimeDep, response: Response, if_match: RequiredIfMatch) -> FormOut:
    form = await usecases.report_case_contacts(
        runtime.uow, form_id, team_manager_id=body.team_manager_id, allocated_worker_id=body.allocated_worker_id, caller=caller, if_match=if_match
    )
    return _answer(form, response)


@router.post(
    "/{form_id}/stages", response_model=FormOut, responses=CHANGED,
    summary="Activate one or more further stages at once (owner); each has its own dates, section and resolution details",
)
async def activate_stages(form_id: FormId, body: ActivateStagesIn, caller: CurrentPerson, runtime: RuntimeDep, response: Response, if_match: RequiredIfMatch) -> FormOut:
    form = await usecases.activate_stages(runtime.uow, form_id, body.stages, caller=caller, if_match=if_match)
    return _answer(form, response)


@router.put("/{form_id}/stages/{stage}/dates", response_model=FormOut, summary="Record a stage's dates (owner)", responses=CHANGED)
async def set_stage_dates(
    form_id: FormId, stage: StageParam, body: DatesIn, caller: CurrentPerson, runtime: RuntimeDep, response: Response, if_match: RequiredIfMatch
) -> FormOut:
    dates = StageDates(body.raised_on, body.response_due_on, body.response_received_on)
    form = await usecases.record_stage_dates(runtime.uow, form_id, stage, dates, caller=caller, if_match=if_match)
    return _answer(form, response)


@router.post(
    "/{form_id}/stages/{stage}/section/delegation", response_model=FormOut, responses=CHANGED,
    summary="Delegate the stage's section to one person (owner); re-delegating recalls it from the previous delegate",
)
async def delegate_section(
    form_id: FormId, stage: StageParam, body: DelegateIn, caller: CurrentPerson, runtime: RuntimeDep, response: Response, if_match: RequiredIfMatch
) -> FormOut:
    form = await usecases.delegate_section(runtime.uow, form_id, stage, body.delegate_id, due_on=body.due_on, caller=caller, if_match=if_match)
    return _answer(form, response)


@router.put(
    "/{form_id}/stages/{stage}/section", response_model=FormOut, responses=CHANGED,
    summary="Save the section's response as a draft (the delegate while delegated, else the owner)",
)
async def save_section(
    form_id: FormId, stage: StageParam, body: SectionIn, caller: CurrentPerson, runtime: RuntimeDep, response: Response, if_match: RequiredIfMatch
) -> FormOut:
    form = await usecases.save_section(runtime.uow, form_id, stage, body.response, caller=caller, if_match=if_match)
    return _answer(form, response)


@router.post("/{form_id}/stages/{stage}/section/finalise", response_model=FormOut, summary="Finalise the section: it becomes read-only", responses=CHANGED)
async def finalise_section(form_id: FormId, stage: StageParam, caller: CurrentPerson, runtime: RuntimeDep, response: Response, if_match: RequiredIfMatch) -> FormOut:
    return _answer(await usecases.finalise_section(runtime.uow, form_id, stage, caller=caller, if_match=if_match), response)


@router.post("/{form_id}/stages/{stage}/section/reactivate", response_model=FormOut, summary="Reactivate a finalised section (owner)", responses=CHANGED)
async def reactivate_section(form_id: FormId, stage: StageParam, caller: CurrentPerson, runtime: RuntimeDep, response: Response, if_match: RequiredIfMatch) -> FormOut:
    return _answer(await usecases.reactivate_section(runtime.uow, form_id, stage, caller=caller, if_match=if_match), response)


@router.post(
    "/{form_id}/stages/{stage}/section/retract", response_model=FormOut, responses=CHANGED,
    summary="Retract an active delegated section with a reason and a note (owner); the delegate's draft is kept",
)
async def retract_section(
    form_id: FormId, stage: StageParam, body: RetractIn, caller: CurrentPerson, runtime: RuntimeDep, response: Response, if_match: RequiredIfMatch
) -> FormOut:
    form = await usecases.retract_section(runtime.uow, form_id, stage, reason=body.reason, note=body.note, caller=caller, if_match=if_match)
    return _answer(form, response)


@router.put(
    "/{form_id}/stages/{stage}/resolution", response_model=FormOut, responses=CHANGED,
    summary="Record the resolution details at the end of a stage (owner): resolved with the impact, or escalate / close unresolved",
)
async def record_resolution(
    form_id: FormId, stage: StageParam, body: ResolutionIn, caller: CurrentPerson, runtime: RuntimeDep, response: Response, if_match: RequiredIfMatch
) -> FormOut:
    details = usecases.ResolutionDetails(body.resolved, body.impact, body.next_step, body.escalate_to, body.close_reason, body.closing_reason_id)
    return _answer(await usecases.record_resolution(runtime.uow, form_id, stage, details, caller=caller, if_match=if_match), response)
