"""Routes for closing reasons: the managed list of coded reasons a resolution is closed unresolved for
(kept like themes), so resolutions can be reported by how they ended."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response
from shared.app import RuntimeDep
from shared.errors import Problem
from shared.http import Page, Pagination, RequiredIfMatch, encode_cursor, etag, public_path
from shared.idempotency import REPLAYED_HEADER, IdempotencyKeyDep, KeyAlreadyUsed, previously_created
from shared.identity import CurrentPerson

from .. import store, usecases
from ..documents import closing_reason_from_document
from .schemas import ThemeIn, ThemeOut, ThemePatch, theme_out

router = APIRouter(prefix="/v1/closing-reasons", tags=["closing reasons"])

ReasonId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9-]*$")]


@router.get("", response_model=Page[ThemeOut], summary="List the coded reasons a resolution can be closed unresolved for")
async def list_closing_reasons(
    caller: CurrentPerson,
    runtime: RuntimeDep,
    page: Pagination,
    include_retired: Annotated[bool, Query(description="Also list retired closing reasons")] = False,
) -> Page[ThemeOut]:
    after = page.cursor.get("after") if page.cursor else None
    if after is not None and not isinstance(after, str):
        raise Problem(400, "bad-cursor", "Malformed cursor", "Pass back the 'next' value of the previous page unchanged.")
    docs = await store.list_closing_reasons(runtime.db, include_retired=include_retired, after=after, limit=page.limit + 1)
    items = [theme_out(closing_reason_from_document(d)) for d in docs[: page.limit]]
    return Page(items=items, next=encode_cursor({"after": docs[page.limit - 1]["_id"]}) if len(docs) > page.limit else None)


@router.get("/{reason_id}", response_model=ThemeOut, summary="Read a closing reason")
async def get_closing_reason(reason_id: ReasonId, caller: CurrentPerson, runtime: RuntimeDep, response: Response) -> ThemeOut:
    theme = await store.load_closing_reason(runtime.db, reason_id)
    response.headers["ETag"] = etag(theme.version)
    return theme_out(theme)


@router.post("", response_model=ThemeOut, status_code=201, summary="Add a closing reason (administrator or QA officer)")
async def create_closing_reason(
    body: ThemeIn, caller: CurrentPerson, runtime: RuntimeDep, request: Request, response: Response, key: IdempotencyKeyDep
) -> ThemeOut:
    if key is not None and (existing := await previously_created(runtime.db, key)):
        response.headers[REPLAYED_HEADER] = "true"
        theme = await store.load_closing_reason(runtime.db, existing)
    else:
        try:
            theme = await usecases.create_closing_reason(runtime.uow, body.name, body.description, caller=caller, idempotency=key)
        except KeyAlreadyUsed as used:
            response.headers[REPLAYED_HEADER] = "true"
            theme = await store.load_closing_reason(runtime.db, used.resource_id)
    response.headers["ETag"] = etag(theme.version)
    response.headers["Location"] = public_path(request, f"/v1/closing-reasons/{theme.id}")
    return theme_out(theme)


@router.patch(
    "/{reason_id}",
    response_model=ThemeOut,
    summary="Rename, describe, retire or reinstate a closing reason (administrator or QA officer)",
    responses={412: {"description": "Changed since the If-Match version"}},
)
async def change_closing_reason(
    reason_id: ReasonId,
    body: ThemePatch,
    caller: CurrentPerson,
    runtime: RuntimeDep,
    response: Response,
    if_match: RequiredIfMatch,
) -> ThemeOut:
    theme = await usecases.change_closing_reason(
        runtime.uow, reason_id, name=body.name, description=body.description, active=body.active, caller=caller, if_match=if_match
    )
    response.headers["ETag"] = etag(theme.version)
    return theme_out(theme)
