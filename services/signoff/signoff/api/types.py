"""Routes for exemplar types: read by everyone, added and changed by an administrator."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response
from shared.app import RuntimeDep
from shared.errors import forbidden
from shared.http import OptionalIfMatch, Page, Pagination, etag
from shared.identity import CurrentPerson

from .. import type_store
from ..domain import roles
from ..domain.types import ExemplarType, Question
from . import convert, paging
from . import models as m

router = APIRouter(prefix="/v1/exemplar-types", tags=["exemplar types"])

Code = Annotated[str, Path(min_length=2, max_length=20, pattern=r"^[A-Z][A-Z0-9_]{1,19}$", examples=["INIASS"])]


@router.get("", response_model=Page[m.ExemplarTypeOut], summary="List exemplar types (by code)")
async def list_types(caller: CurrentPerson, runtime: RuntimeDep, page: Pagination) -> Page[m.ExemplarTypeOut]:
    types = await type_store.list_types(runtime.db, after=paging.after(page), limit=page.limit + 1)
    docs = [{"t": t, "sort_key": t.code} for t in types]
    return paging.page_of(docs, page, lambda d: convert.exemplar_type(d["t"]))


@router.get("/{code}", response_model=m.ExemplarTypeOut, summary="Read an exemplar type (its current version)", responses={404: {}})
async def read_type(code: Code, caller: CurrentPerson, runtime: RuntimeDep, response: Response) -> m.ExemplarTypeOut:
    t = await type_store.get(runtime.db, code)
    response.headers["ETag"] = etag(t.version)
    return convert.exemplar_type(t)


@router.get("/{code}/versions/{version}", response_model=m.ExemplarTypeOut, summary="Read one version of an exemplar type", responses={404: {}})
async def read_type_version(code: Code, version: Annotated[int, Path(ge=1, le=1_000_000)], caller: CurrentPerson, runtime: RuntimeDep) -> m.ExemplarTypeOut:
    return convert.exemplar_type(await type_store.get_version(runtime.db, code, version))


@router.put(
    "/{code}", response_model=m.ExemplarTypeOut, summary="Add an exemplar type, or change it (a new version; If-Match required)",
    responses={201: {"description": "Created"}, 403: {}, 412: {}, 422: {}, 428: {}},
)
async def put_type(
    code: Code, body: m.ExemplarTypeIn, caller: CurrentPerson, runtime: RuntimeDep, response: Response, if_match: OptionalIfMatch
) -> m.ExemplarTypeOut:
    if caller.roles.isdisjoint(roles.TYPE_EDITORS):
        raise forbidden("Only an administrator adds or changes exemplar types.")
    definition = ExemplarType(
        code=code, name=body.name,
        questions=tuple(Question(q.id, q.text, q.kind, q.mandatory, tuple(q.options)) for q in body.questions),
        first_signers=frozenset(body.first_signers), counter_signers=frozenset(body.counter_signers),
        same_person_may_sign_both=body.same_person_may_sign_both, timescale_working_days=body.timescale_working_days,
        start_question_id=body.start_question_id, role_notes=body.role_notes, active=body.active,
    )
    stored, created = await type_store.put(runtime.uow, definition, by=caller.person_id, if_match=if_match)
    if created:
        response.status_code = 201
    response.headers["ETag"] = etag(stored.version)
    return convert.exemplar_type(stored)
