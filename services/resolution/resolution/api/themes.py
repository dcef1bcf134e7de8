"""Routes for themes: the managed list of categories a concern is filed under."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response
from shared.app import RuntimeDep
from shared.errors import Problem
from shared.http import Page, Pagination, RequiredIfMatch, encode_cursor, etag, public_path
from shared.idempotency import REPLAYED_HEADER, IdempotencyKeyDep, KeyAlreadyUsed, previously_created
from shared.identity import CurrentPerson

from .. import store, usecases
from ..documents import theme_from_document
from .schemas import ThemeIn, ThemeOut, ThemePatch, theme_out

router = APIRouter(prefix="/v1/themes", tags=["themes"])

ThemeId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9-]*$")]


@router.get("", response_model=Page[ThemeOut], summary="List the themes a concern can be filed under")
async def list_themes(
    caller: CurrentPerson, runtime: RuntimeDep, page: Pagination,
    include_retired: Annotated[bool, Query(description="Also list retired themes")] = False,
) -> Page[ThemeOut]:
    after = page.cursor.get("after") if page.cursor else None
    if after is not None and not isinstance(after, str):
        raise Problem(400, "bad-cursor", "Malformed cursor", "Pass back the 'next' value of the previous page unchanged.")
    docs = await store.list_themes(runtime.db, include_retired=include_retired, after=after, limit=page.limit + 1)
    items = [theme_out(theme_from_document(d)) for d in docs[: page.limit]]
    return Page(items=items, next=encode_cursor({"after": docs[page.limit - 1]["_id"]}) if len(docs) > page.limit else None)


@router.get("/{theme_id}", response_model=ThemeOut, summary="Read a theme")
async def get_theme(theme_id: ThemeId, caller: CurrentPerson, runtime: RuntimeDep, response: Response) -> ThemeOut:
    theme = await store.load_theme(runtime.db, theme_id)
    response.headers["ETag"] = etag(theme.version)
    return theme_out(theme)


@router.post("", response_model=ThemeOut, status_code=201, summary="Add a theme (administrator or QA officer)")
async def create_theme(body: ThemeIn, caller: CurrentPerson, runtime: RuntimeDep, request: Request, response: Response, key: IdempotencyKeyDep) -> ThemeOut:
    if key is not None and (existing := await previously_created(runtime.db, key)):
        response.headers[REPLAYED_HEADER] = "true"
        theme = await store.load_theme(runtime.db, existing)
    else:
        try:
            theme = await usecases.create_theme(runtime.uow, body.name, body.description, caller=caller, idempotency=key)
        except KeyAlreadyUsed as used:
            response.headers[REPLAYED_HEADER] = "true"
            theme = await store.load_theme(runtime.db, used.resource_id)
    response.headers["ETag"] = etag(theme.version)
    response.headers["Location"] = public_path(request, f"/v1/themes/{theme.id}")
    return theme_out(theme)


@router.patch(
    "/{theme_id}", response_model=ThemeOut, summary="Rename, describe, retire or reinstate a theme (administrator or QA officer)",
    responses={412: {"description": "Changed since the If-Match version"}},
)
async def change_theme(
    theme_id: ThemeId, body: ThemePatch, caller: CurrentPerson, runtime: RuntimeDep, response: Response, if_match: RequiredIfMatch
) -> ThemeOut:
    theme = await usecases.change_theme(
        runtime.uow, theme_id, name=body.name, description=body.description, active=body.active, caller=caller, if_match=if_match
    )
    response.headers["ETag"] = etag(theme.version)
    return theme_out(theme)
