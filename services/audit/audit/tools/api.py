"""HTTP routes for audit programmes' tools: read by anyone signed in, versions added by
administrators and QA staff."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response
from shared.app import RuntimeDep
from shared.errors import Problem, bad_cursor, not_found
from shared.http import OptionalIfMatch, Page, Pagination, encode_cursor, etag, public_path
from shared.idempotency import IdempotencyKeyDep, create_id_once
from shared.identity import CurrentPerson
from shared.paging import page_of

from ..common.api_paging import after
from . import store as tool_store
from . import usecases
from .domain.definition import CaseType, NoSectionsShown, OpenBand
from .schemas import AuditForm, ToolDefinition, ToolOut, ToolSummaryOut

router = APIRouter(prefix="/v1/tools", tags=["audit tools"])

ToolIdPath = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[a-z][a-z0-9-]*$")]
VersionPath = Annotated[int, Path(ge=1, le=1_000_000)]


def _tool_out(doc: dict[str, Any]) -> ToolOut:
    return ToolOut(tool_id=doc["tool_id"], version=doc["version"], definition=doc["definition"], created_by=doc["created_by"], created_at=doc["created_at"])


def _summary_out(d: dict[str, Any]) -> ToolSummaryOut:
    return ToolSummaryOut(tool_id=d["_id"], latest_version=d["version"], title=d["title"], programme=d["programme"], updated_at=d["updated_at"], updated_by=d["updated_by"])


async def _stored_version(runtime: RuntimeDep, tool_id: str, version: int) -> dict[str, Any]:
    doc = await tool_store.get_version(runtime.db, tool_id, version)
    if doc is None:
        raise not_found("Tool version", f"{tool_id}@{version}")
    return doc


@router.get("", response_model=Page[ToolSummaryOut], summary="List audit tools (each with its latest version)")
async def list_tools(caller: CurrentPerson, runtime: RuntimeDep, page: Pagination) -> Page[ToolSummaryOut]:
    docs = await tool_store.list_tools(runtime.db, after=after(page), limit=page.limit + 1)
    return page_of(docs, page, _summary_out)


@router.post(
    "/{tool_id}/versions",
    response_model=ToolOut,
    status_code=201,
    summary="Add a tool, or the next version of a tool (If-Match: the latest version you read)",
    responses={412: {"description": "The tool has a newer version"}, 428: {"description": "If-Match required for an existing tool"}},
)
async def add_version(
    tool_id: ToolIdPath, body: ToolDefinition, caller: CurrentPerson, runtime: RuntimeDep, request: Request, response: Response,
    if_match: OptionalIfMatch, key: IdempotencyKeyDep,
) -> ToolOut:
    async def add() -> str:
        number = await usecases.add_tool_version(
            runtime.extra["audit"], tool_id=tool_id, definition=body.to_domain(), expected=if_match, caller=caller, key=key
        )
        return f"{tool_id}@{number}"

    name, _, version = (await create_id_once(runtime.db, key, response, add)).partition("@")
    doc = await _stored_version(runtime, name, int(version))
    response.headers["ETag"] = etag(doc["version"])
    response.headers["Location"] = public_path(request, f"/v1/tools/{name}/versions/{version}")
    return _tool_out(doc)


@router.get("/{tool_id}", response_model=ToolOut, summary="Read a tool's latest version")
async def get_tool(tool_id: ToolIdPath, caller: CurrentPerson, runtime: RuntimeDep, response: Response) -> ToolOut:
    version = await tool_store.latest_version(runtime.db, tool_id)
    doc = await tool_store.get_version(runtime.db, tool_id, version) if version else None
    if doc is None:
        raise not_found("Tool", tool_id)
    response.headers["ETag"] = etag(doc["version"])
    return _tool_out(doc)


@router.get("/{tool_id}/versions", response_model=Page[ToolOut], summary="Every version of a tool, newest first")
async def list_versions(tool_id: ToolIdPath, caller: CurrentPerson, runtime: RuntimeDep, page: Pagination) -> Page[ToolOut]:
    before = page.cursor.get("before") if page.cursor else None
    if before is not None and not isinstance(before, int):
        raise bad_cursor()
    docs = await tool_store.list_versions(runtime.db, tool_id, before=before, limit=page.limit + 1)
    if not docs and before is None:
        raise not_found("Tool", tool_id)
    items = [_tool_out(d) for d in docs[: page.limit]]
    return Page(items=items, next=encode_cursor({"before": docs[page.limit - 1]["version"]}) if len(docs) > page.limit else None)


@router.get("/{tool_id}/versions/{version}", response_model=ToolOut, summary="Read one version of a tool")
async def get_version(tool_id: ToolIdPath, version: VersionPath, caller: CurrentPerson, runtime: RuntimeDep) -> ToolOut:
    return _tool_out(await _stored_version(runtime, tool_id, version))


@router.get("/{tool_id}/versions/{version}/form", response_model=AuditForm, summary="The form a tool version shows for a case type and age")
async def get_form(
    tool_id: ToolIdPath, version: VersionPath, caller: CurrentPerson, runtime: RuntimeDep,
    case_type: Annotated[CaseType, Query()], open_band: Annotated[OpenBand, Query()],
) -> AuditForm:
    doc = await _stored_version(runtime, tool_id, version)
    try:
        form = tool_store.definition_of(doc).form_for(tool_id, version, case_type, open_band)
    except NoSectionsShown as exc:
        raise Problem(422, "no-sections-shown", "Nothing to audit", str(exc)) from exc
    return AuditForm.model_validate(form)
