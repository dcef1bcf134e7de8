"""Routes for the managed lists administrators and QA officers keep: themes (the categories a
concern is filed under) and closing reasons (the coded reasons a resolution is closed unresolved
for, so resolutions can be reported by how they ended). Both are kept by the same rules, so one
function builds each list's four routes: list, read, add, and change (rename, describe, retire or
reinstate)."""

# Not `from __future__ import annotations`: the routes' parameters are declared from this
# function's arguments (the list's id name and wording), so their annotations are evaluated here.

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response
from shared.app import RuntimeDep
from shared.http import Page, Pagination, RequiredIfMatch, etag, public_path
from shared.idempotency import IdempotencyKeyDep, create_once
from shared.identity import CurrentPerson
from shared.paging import after, page_of

from .. import store, usecases
from ..domain import Theme
from .schemas import ThemeIn, ThemeOut, ThemePatch, theme_out


def _answer(item: Theme, response: Response) -> ThemeOut:
    response.headers["ETag"] = etag(item.version)
    return theme_out(item)


def managed_list_router(
    kept: store.ManagedList[Any], *, path: str, plural: str, id_name: str, list_summary: str
) -> APIRouter:
    """The routes of one managed list under ``path``: ``kept`` says what it holds (its ``what``
    names it in summaries and route names: ``theme`` → ``get_theme``) and how it is stored;
    ``id_name`` is the name of the item's id in the path."""
    what = kept.kind.what
    name = what.replace(" ", "_")
    router = APIRouter(prefix=path, tags=[plural])
    ItemId = Annotated[str, Path(alias=id_name, title=id_name.replace("_", " ").title(), min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9-]*$")]
    IncludeRetired = Annotated[bool, Query(description=f"Also list retired {plural}")]

    async def list_items_route(caller: CurrentPerson, runtime: RuntimeDep, page: Pagination, include_retired: IncludeRetired = False) -> Page[ThemeOut]:
        docs = await kept.page(runtime.db, include_retired=include_retired, after=after(page, str), limit=page.limit + 1)
        return page_of(docs, page, lambda d: theme_out(kept.from_document(d)))

    async def get_item(item_id: ItemId, caller: CurrentPerson, runtime: RuntimeDep, response: Response) -> ThemeOut:
        return _answer(await kept.load(runtime.db, item_id, None), response)

    async def create_item(body: ThemeIn, caller: CurrentPerson, runtime: RuntimeDep, request: Request, response: Response, key: IdempotencyKeyDep) -> ThemeOut:
        item = await create_once(
            runtime.db, key, response,
            create=lambda: usecases.create_listed(runtime.uow, kept, body.name, body.description, caller=caller, idempotency=key),
            read=lambda existing: kept.load(runtime.db, existing, None),
        )
        response.headers["Location"] = public_path(request, f"{path}/{item.id}")
        return _answer(item, response)

    async def change_item(item_id: ItemId, body: ThemePatch, caller: CurrentPerson, runtime: RuntimeDep, response: Response, if_match: RequiredIfMatch) -> ThemeOut:
        item = await usecases.change_listed(
            runtime.uow, kept, item_id, name=body.name, description=body.description, active=body.active, caller=caller, if_match=if_match
        )
        return _answer(item, response)

    item_path = f"/{{{id_name}}}"
    router.add_api_route("", list_items_route, methods=["GET"], name=f"list_{plural.replace(' ', '_')}", response_model=Page[ThemeOut], summary=list_summary)
    router.add_api_route(item_path, get_item, methods=["GET"], name=f"get_{name}", response_model=ThemeOut, summary=f"Read a {what}")
    router.add_api_route(
        "", create_item, methods=["POST"], name=f"create_{name}", response_model=ThemeOut, status_code=201,
        summary=f"Add a {what} (administrator or QA officer)",
    )
    router.add_api_route(
        item_path, change_item, methods=["PATCH"], name=f"change_{name}", response_model=ThemeOut,
        summary=f"Rename, describe, retire or reinstate a {what} (administrator or QA officer)",
        responses={412: {"description": "Changed since the If-Match version"}},
    )
    return router


themes_router = managed_list_router(
    usecases.THEMES, path="/v1/themes", plural="themes", id_name="theme_id",
    list_summary="List the themes a concern can be filed under",
)
closing_reasons_router = managed_list_router(
    usecases.CLOSING_REASONS, path="/v1/closing-reasons", plural="closing reasons", id_name="reason_id",
    list_summary="List the coded reasons a resolution can be closed unresolved for",
)
