"""Routes for one exemplar: start, read (any version), save answers, the Exemplar Assistant,
first signature, counter-signature, unlock, clone to siblings, workflow messages."""

from __future__ import annotations

from typing import Annotated, Any, TypeAlias

from fastapi import APIRouter, Path, Request, Response
from shared.app import RuntimeDep
from shared.errors import not_found
from shared.http import IdPath, Page, Pagination, RequiredIfMatch, etag, public_path
from shared.idempotency import IdempotencyKeyDep, create_id_once
from shared.identity import CurrentPerson

from .. import store, usecases
from ..domain.errors import NotFound
from . import convert, paging
from . import models as m

router = APIRouter(prefix="/v1/exemplars", tags=["exemplars"])

ExemplarId: TypeAlias = IdPath
VersionNumber = Annotated[int, Path(ge=1, le=100_000)]

_ERRORS: dict[int | str, dict[str, Any]] = {
    403: {"description": "Not allowed (role, team, or the same person signing twice)"},
    404: {"description": "No such exemplar, or not one you may read"},
    409: {"description": "Against the exemplar's state (e.g. locked: unlock it first)"},
    412: {"description": "Changed since the If-Match revision"},
    422: {"description": "Invalid input, or mandatory questions unanswered"},
}


def _etag(response: Response, revision: int) -> None:
    response.headers["ETag"] = etag(revision)


@router.post("", response_model=m.ExemplarOut, status_code=201, summary="Start an exemplar for a child's case", responses=_ERRORS)
async def start_exemplar(body: m.ExemplarCreate, caller: CurrentPerson, runtime: RuntimeDep, request: Request, response: Response, key: IdempotencyKeyDep) -> m.ExemplarOut:
    exemplar_id = await create_id_once(runtime.db, key, response, lambda: usecases.start(
        runtime.uow, caller, case_id=body.case_id, type_code=body.type_code, answers=body.answers, key=key
    ))
    loaded = await usecases.load_for(runtime.db, caller, exemplar_id)
    response.headers["Location"] = public_path(request, f"/v1/exemplars/{exemplar_id}")
    _etag(response, loaded.exemplar.revision)
    return convert.exemplar(loaded.exemplar, usecases.today(runtime.uow))


@router.get("/{exemplar_id}", response_model=m.ExemplarOut, summary="Read an exemplar: its current version and every version's status", responses=_ERRORS)
async def read_exemplar(exemplar_id: ExemplarId, caller: CurrentPerson, runtime: RuntimeDep, response: Response) -> m.ExemplarOut:
    loaded = await usecases.load_for(runtime.db, caller, exemplar_id)
    _etag(response, loaded.exemplar.revision)
    return convert.exemplar(loaded.exemplar, usecases.today(runtime.uow))


@router.get("/{exemplar_id}/versions/{number}", response_model=m.VersionOut, summary="Read one version, as it was kept", responses=_ERRORS)
async def read_exemplar_version(exemplar_id: ExemplarId, number: VersionNumber, caller: CurrentPerson, runtime: RuntimeDep) -> m.VersionOut:
    loaded = await usecases.load_for(runtime.db, caller, exemplar_id)
    found = loaded.exemplar.version(number)
    if found is None:
        raise not_found("Version", f"{exemplar_id} v{number}")
    return convert.version(found)


@router.get(
    "/{exemplar_id}/assistant", response_model=list[m.UnansweredOut], responses=_ERRORS,
    summary="The Exemplar Assistant: mandatory questions of the current version still unanswered",
)
async def exemplar_assistant(exemplar_id: ExemplarId, caller: CurrentPerson, runtime: RuntimeDep) -> list[m.UnansweredOut]:
    loaded = await usecases.load_for(runtime.db, caller, exemplar_id)
    return [m.UnansweredOut(question_id=u.question_id, text=u.text) for u in loaded.exemplar.unanswered_mandatory()]


@router.patch("/{exemplar_id}/answers", response_model=m.ExemplarOut, summary="Save answers of the current version", responses=_ERRORS)
async def save_answers(
    exemplar_id: ExemplarId, body: m.AnswersIn, caller: CurrentPerson, runtime: RuntimeDep, response: Response, if_match: RequiredIfMatch
) -> m.ExemplarOut:
    exemplar = await usecases.save_answers(runtime.uow, caller, exemplar_id, if_match, body.answers)
    _etag(response, exemplar.revision)
    return convert.exemplar(exemplar, usecases.today(runtime.uow))


@router.post(
    "/{exemplar_id}/first-signature", response_model=m.FirstSignedOut, responses=_ERRORS,
    summary="First signature ('Sign Now'): refused with every unanswered mandatory question listed",
)
async def first_sign(
    exemplar_id: ExemplarId, body: m.FirstSignIn, caller: CurrentPerson, runtime: RuntimeDep, response: Response, if_match: RequiredIfMatch
) -> m.FirstSignedOut:
    exemplar, message = await usecases.first_sign(
        runtime.uow, caller, exemplar_id, if_match, counter_signer_id=body.counter_signer_id, due_on=body.due_on
    )
    _etag(response, exemplar.revision)
    return convert.exemplar(
        exemplar, usecases.today(runtime.uow), m.FirstSignedOut, system_message=convert.message(message) if message else None
    )


@router.post(
    "/{exemplar_id}/counter-signature", response_model=m.ExemplarOut, responses=_ERRORS,
    summary="Counter-signature (second 'Sign Now') with comments or supervision notes; the version is then locked",
)
async def counter_sign(
    exemplar_id: ExemplarId, body: m.CounterSignIn, caller: CurrentPerson, runtime: RuntimeDep, response: Response, if_match: RequiredIfMatch
) -> m.ExemplarOut:
    exemplar = await usecases.counter_sign(
        runtime.uow, caller, exemplar_id, if_match, comments=body.comments, supervision_notes=body.supervision_notes
    )
    _etag(response, exemplar.revision)
    return convert.exemplar(exemplar, usecases.today(runtime.uow))


@router.post(
    "/{exemplar_id}/unlock", response_model=m.ExemplarOut, responses=_ERRORS,
    summary="Unlock a counter-signed version, with a reason: makes an editable Version N+1 holding its data",
)
async def unlock_exemplar(
    exemplar_id: ExemplarId, body: m.UnlockIn, caller: CurrentPerson, runtime: RuntimeDep, response: Response, if_match: RequiredIfMatch
) -> m.ExemplarOut:
    exemplar = await usecases.unlock(runtime.uow, caller, exemplar_id, if_match, reason=body.reason)
    _etag(response, exemplar.revision)
    return convert.exemplar(exemplar, usecases.today(runtime.uow))


@router.post(
    "/{exemplar_id}/clones", response_model=m.ClonesOut, status_code=201, responses=_ERRORS,
    summary="Clone the index child's counter-signed exemplar to siblings' cases (each clone needs its own signatures)",
)
async def clone_exemplar(
    exemplar_id: ExemplarId, body: m.CloneIn, caller: CurrentPerson, runtime: RuntimeDep, response: Response, key: IdempotencyKeyDep
) -> m.ClonesOut:
    batch = await create_id_once(runtime.db, key, response, lambda: usecases.clone(runtime.uow, caller, exemplar_id, body.case_ids, key))
    docs = await store.clones_in_batch(runtime.db, batch)
    return m.ClonesOut(index_exemplar_id=exemplar_id, clones=[convert.summary(d) for d in docs])


@router.post(
    "/{exemplar_id}/messages", response_model=m.MessageOut, status_code=201, responses=_ERRORS,
    summary="Send a workflow message from this exemplar to a person (a task in their work tray)",
)
async def send_message(
    exemplar_id: ExemplarId, body: m.MessageIn, caller: CurrentPerson, runtime: RuntimeDep, response: Response, key: IdempotencyKeyDep
) -> m.MessageOut:
    message_id = await create_id_once(runtime.db, key, response, lambda: usecases.send_message(
        runtime.uow, caller, exemplar_id, to_person_id=body.to_person_id, subject=body.subject, action=body.action,
        text=body.text, due_on=body.due_on, send_email=body.send_email, key=key,
    ))
    doc = await runtime.db[store.MESSAGES].find_one({"_id": message_id})
    if doc is None:
        raise NotFound("workflow message", message_id)
    return convert.message(store.message_from_document(doc))


@router.get("/{exemplar_id}/messages", response_model=Page[m.MessageOut], summary="Workflow messages sent from this exemplar", responses=_ERRORS)
async def list_messages(exemplar_id: ExemplarId, caller: CurrentPerson, runtime: RuntimeDep, page: Pagination) -> Page[m.MessageOut]:
    await usecases.load_for(runtime.db, caller, exemplar_id)
    docs = await store.messages_of_exemplar(runtime.db, exemplar_id, after=paging.after(page), limit=page.limit + 1)
    return paging.page_of(docs, page, lambda d: convert.message(store.message_from_document(d)))
