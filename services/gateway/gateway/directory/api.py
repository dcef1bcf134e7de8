"""The directory's HTTP API: read by staff, written by administrators and the case-management system
(one record at a time, or thousands at once with the bulk import). A child's case is read only by
those with a reason to (``domain.CaseReader``); to anyone else it does not exist."""

from dataclasses import replace
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Path, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from pymongo.asynchronous.database import AsyncDatabase
from shared.app import RuntimeDep
from shared.errors import Problem, forbidden, not_found
from shared.http import OptionalIfMatch, Page, Pagination, etag, id_path
from shared.identity import Identity
from shared.mongo import Document

from shared import paging

from ..callers import Caller, CallerResolver
from . import bulk, imports, jobs, schemas, store, sync
from .domain import DIRECTORY_WRITERS, CaseReader
from .store import CASES, PEOPLE, TEAMS, Kind

RecordId = Annotated[str, id_path(description="The case-management system's id")]


class RecordOut(BaseModel):
    id: str
    version: int
    data: dict[str, Any]
    updated_at: str
    updated_by: str


class HistoryEntry(BaseModel):
    version: int
    data: dict[str, Any]
    at: str
    by: str


class RowErrorOut(BaseModel):
    field: str | None
    message: str


class RejectedRowOut(BaseModel):
    row: int
    id: str | None
    errors: list[RowErrorOut]


class SyncStatus(BaseModel):
    """Whether the services have applied the directory through a sequence (the directory sync
    signal): ``applied`` per service keeping a copy of this kind, ``synced`` once all have.
    Follow ``href`` (``GET /api/v1/directory/sync``) until ``synced``."""

    kind: str
    through: int
    applied: dict[str, bool]
    synced: bool
    href: str


class ImportReport(BaseModel):
    """What a bulk import did: rows received, written (created, updated, unchanged) and refused;
    and ``sync``: whether every service has applied it yet."""

    kind: str
    received: int
    accepted: int
    created: int
    updated: int
    unchanged: int
    rejected: int
    rejections: list[RejectedRowOut]
    sync: SyncStatus


class ImportJobSummary(BaseModel):
    """An asynchronous import (``Prefer: respond-async``): how far it got."""

    id: str
    kind: str
    status: str
    reason: str | None = None
    requested_by: str
    received: int
    accepted: int
    created: int
    updated: int
    unchanged: int
    rejected: int
    batches_done: int
    batches_total: int
    created_at: str
    finished_at: str | None = None


class ImportJob(ImportJobSummary):
    """An asynchronous import's report: status (running, completed, or failed with a reason), counts
    so far, batches written of all, every rejected row (known from the start), and once completed
    ``sync``: whether every service has applied it yet."""

    rejections: list[RejectedRowOut]
    sync: SyncStatus | None = None


JobId = Annotated[str, Path(min_length=1, max_length=64, description="The import's id (from the Location of the 202)")]
PreferHeader = Annotated[
    str | None,
    Header(description="``respond-async`` (RFC 7240): answer 202 at once with the import's Location, and write the rows in the background."),
]


def _import_body_doc(kind: Kind, model: type[schemas.Body]) -> dict[str, Any]:
    fields = ", ".join(model.model_fields)
    return {
        "requestBody": {
            "required": True,
            "description": (
                f"Every {kind.name} as a JSON array of objects (``id`` plus {fields}), or a CSV file whose first line "
                "names the columns (``id`` and any of those); in CSV, list fields are separated by ``;`` and an empty cell "
                "means not given. Rows are numbered from 1 (in CSV, the line after the header)."
            ),
            "content": {
                "application/json": {"schema": {"type": "array", "items": {"type": "object", "required": ["id"], "properties": {"id": {"type": "string"}}}}},
                "text/csv": {"schema": {"type": "string"}},
            },
        }
    }


def _out(doc: dict[str, Any]) -> RecordOut:
    return RecordOut(id=doc["_id"], version=doc["version"], data=doc["data"], updated_at=doc["updated_at"].isoformat(), updated_by=doc["updated_by"])


def _require_writer(caller: Identity) -> None:
    if not caller.has_role(*DIRECTORY_WRITERS):
        raise forbidden("Only an administrator or the case-management system may change the directory.")


async def _case_reader(db: AsyncDatabase[Document], caller: Identity, case: dict[str, Any] | None = None) -> CaseReader:
    """The caller as a reader of children's cases. The teams they manage down the line are looked
    up (``store.teams_managed_down_the_line``) only when needed: not for those who read every case,
    nor for ``case`` when their identity alone lets them read it."""
    reader = CaseReader(caller.person_id, frozenset(caller.roles), frozenset(caller.teams))
    if reader.reads_every_case or (case is not None and reader.may_read(case)):
        return reader
    return replace(reader, managed_teams=await store.teams_managed_down_the_line(db, caller.person_id))


async def _readable(db: AsyncDatabase[Document], kind: Kind, record_id: str, caller: Identity) -> Document:
    """The record, if it exists and the caller may read it; else 404, the same either way."""
    doc = await store.get_record(db, kind, record_id)
    if doc is None or (kind is CASES and not (await _case_reader(db, caller, doc["data"])).may_read(doc["data"])):
        raise not_found(kind.name.capitalize(), record_id)
    return doc


CASE_READERS_DOC = (
    "Need to know: a child's case is read by members of its team, its allocated worker and the team manager recorded on it, "
    "the manager of its team and everyone above them in the line-management chain, QA staff, administrators and the "
    "case-management system. To anyone else it does not exist (404); a list holds only the cases the caller may read."
)


def _routes(router: APIRouter, kind: Kind, model: type[schemas.Body]) -> None:
    tag = "directory"
    read_doc = CASE_READERS_DOC if kind is CASES else None

    @router.put(
        f"/{kind.plural}/{{record_id}}",
        response_model=RecordOut,
        tags=[tag],
        summary=f"Create or replace a {kind.name}",
        name=f"put_{kind.name}",
        responses={201: {"description": "Created"}, 412: {"description": "Changed since the If-Match version"}},
    )
    async def put(record_id: RecordId, body: model, caller: Caller, runtime: RuntimeDep, response: Response, if_match: OptionalIfMatch) -> RecordOut:  # type: ignore[valid-type]
        _require_writer(caller)
        written: schemas.Body = body
        doc, changed = await store.put_record(runtime.uow, kind, record_id, written.to_domain(), by=caller, if_match=if_match)
        if changed and doc["version"] == 1:
            response.status_code = 201
        if kind.name in ("person", "team"):
            resolver: CallerResolver = runtime.extra["callers"]
            resolver.forget()
        response.headers["ETag"] = etag(doc["version"])
        return _out(doc)

    @router.get(f"/{kind.plural}/{{record_id}}", response_model=RecordOut, tags=[tag], summary=f"Read a {kind.name}", description=read_doc, name=f"get_{kind.name}")
    async def get(record_id: RecordId, caller: Caller, runtime: RuntimeDep, response: Response) -> RecordOut:
        doc = await _readable(runtime.db, kind, record_id, caller)
        response.headers["ETag"] = etag(doc["version"])
        return _out(doc)

    @router.get(f"/{kind.plural}/{{record_id}}/history", response_model=list[HistoryEntry], tags=[tag], summary=f"Every version of a {kind.name}", description=read_doc, name=f"history_{kind.name}")
    async def history(record_id: RecordId, caller: Caller, runtime: RuntimeDep) -> list[HistoryEntry]:
        if kind is CASES:
            await _readable(runtime.db, kind, record_id, caller)
        entries = await store.history(runtime.db, kind, record_id)
        if not entries:
            raise not_found(kind.name.capitalize(), record_id)
        return [HistoryEntry(version=e["version"], data=e["data"], at=e["at"].isoformat(), by=e["by"]) for e in entries]

    @router.post(
        f"/{kind.plural}:import",
        response_model=ImportReport,
        tags=[tag],
        summary=f"Import many {kind.plural} at once (JSON or CSV); bad rows are reported, good ones kept",
        name=f"import_{kind.plural}",
        openapi_extra=_import_body_doc(kind, model),
        responses={
            202: {
                "model": ImportJob,
                "description": "With ``Prefer: respond-async``: checked and stored; the rows are being written. Poll the Location.",
                "headers": {"Location": {"schema": {"type": "string"}}, "Preference-Applied": {"schema": {"type": "string"}}},
            },
            400: {"description": "The file cannot be read as rows; nothing was imported"},
            415: {"description": "Neither JSON nor CSV"},
        },
    )
    async def import_(request: Request, caller: Caller, runtime: RuntimeDep, prefer: PreferHeader = None) -> ImportReport | JSONResponse:
        _require_writer(caller)
        settings = runtime.settings
        content_type = request.headers.get("content-type", "")
        if content_type.split(";", 1)[0].strip().lower() not in ("application/json", "text/csv", "application/csv"):
            raise Problem(415, "unsupported-media-type", "Unsupported media type", "Send the records as application/json (an array of objects) or text/csv.")
        try:
            rows = bulk.read_rows(await request.body(), content_type, model, max_rows=settings.max_import_rows)
        except bulk.UnreadableImport as exc:
            raise Problem(400, "unreadable-import", "The file cannot be imported", str(exc)) from exc
        checked = bulk.check_rows(rows, model)
        good = [(record_id, record.to_domain()) for _, record_id, record in checked.good]
        if imports.prefers_respond_async(request.headers.getlist("prefer")):
            job, rejections = await jobs.store_job(
                runtime.uow, runtime.clock.now(), kind, good, checked.rejected, received=checked.received, by=caller.person_id,
                batch_size=settings.import_batch_size,
            )
            runtime.extra["imports"].wake()
            return JSONResponse(
                (await _job_out(runtime.db, job, rejections)).model_dump(mode="json"), status_code=202,
                headers={"Location": f"/api/v1/directory/imports/{job['_id']}", "Preference-Applied": "respond-async"},
            )
        counts = await store.import_records(runtime.uow, kind, good, by=caller, batch_size=settings.import_batch_size)
        synced = SyncStatus.model_validate(await sync.status(runtime.db, kind.name, counts.through))
        if kind.name in ("person", "team") and counts.created + counts.updated:
            resolver: CallerResolver = runtime.extra["callers"]
            resolver.forget()
        return ImportReport(
            kind=kind.name, received=checked.received, accepted=len(checked.good),
            created=counts.created, updated=counts.updated, unchanged=counts.unchanged, rejected=len(checked.rejected),
            rejections=[
                RejectedRowOut(row=r.row, id=r.id, errors=[RowErrorOut(field=e.field, message=e.message) for e in r.errors])
                for r in checked.rejected
            ],
            sync=synced,
        )

    filter_doc = ", ".join(kind.filters)

    @router.get(f"/{kind.plural}", response_model=Page[RecordOut], tags=[tag], summary=f"List {kind.plural} (filters: {filter_doc})", description=read_doc, name=f"list_{kind.plural}")
    async def list_(caller: Caller, runtime: RuntimeDep, page: Pagination, filter_by: Annotated[list[str], Query(alias="filter", description="field:value")] = []) -> Page[RecordOut]:  # noqa: B006
        filters = {}
        for item in filter_by:
            field, _, value = item.partition(":")
            if field not in kind.filters or not value:
                raise Problem(400, "bad-filter", "Unknown filter", f"{kind.plural} can be filtered by {filter_doc} as 'field:value'; got {item!r}.")
            filters[field] = value
        after = paging.after(page, str)
        if kind is CASES:  # only the cases the caller may read, chosen by the query itself
            any_of = (await _case_reader(runtime.db, caller)).readable(filters)
        else:
            any_of = [{f: frozenset({v}) for f, v in filters.items()}]
        docs = await store.list_records(runtime.db, kind, any_of=any_of, after=after, limit=page.limit + 1)
        return paging.page_of(docs, page, _out)


async def _job_out(db: AsyncDatabase[Document], job: Document, rejections: list[dict[str, Any]]) -> ImportJob:
    """A job's report, with its sync status once completed."""
    out = ImportJob.model_validate(imports.report(job, rejections))
    if job["status"] == imports.COMPLETED:
        out.sync = SyncStatus.model_validate(await sync.status(db, job["kind"], int(job.get("through", 0))))
    return out


def _import_routes(router: APIRouter) -> None:
    @router.get("/imports/{job_id}", response_model=ImportJob, tags=["directory"], summary="An asynchronous import's report (directory writers)", name="get_import")
    async def get_import(job_id: JobId, caller: Caller, runtime: RuntimeDep) -> ImportJob:
        _require_writer(caller)
        job = await jobs.get_job(runtime.db, job_id)
        if job is None:
            raise not_found("Import", job_id)
        return await _job_out(runtime.db, job, await jobs.rejections_of(runtime.db, job_id))

    @router.get(
        "/sync", response_model=SyncStatus, tags=["directory"], name="get_directory_sync",
        summary="Whether every service has applied the directory's changes of a kind (the directory sync signal)",
        description=(
            "Every change of the directory is numbered per kind (``sequence`` on its event); each service keeping a copy "
            "reports how far it has applied them. ``applied`` says, per service keeping a copy of ``kind``, whether it has "
            "applied every change through ``through`` (default: the last change so far); ``synced`` once all have. An import "
            "answers with the ``href`` to follow. A service asked about a record it has not applied yet answers 409 "
            "``not-in-directory-yet`` with ``Retry-After``."
        ),
        responses={422: {"description": "A sequence the directory has not given yet"}},
    )
    async def get_sync(
        caller: Caller, runtime: RuntimeDep,
        kind: Annotated[Literal["team", "person", "case"], Query(description="The kind of record: team, person or case")],
        through: Annotated[int | None, Query(ge=0, le=2**53, description="The sequence to have applied (default: the last given)")] = None,
    ) -> SyncStatus:
        last = (await store.last_sequences(runtime.db))[kind]
        if through is not None and through > last:
            raise Problem(
                422, "validation-error", "Invalid request", f"The directory has numbered {last} {kind} changes so far; through={through} is not one of them.",
                errors=[{"field": "through", "message": f"at most {last}"}],
            )
        return SyncStatus.model_validate(await sync.status(runtime.db, kind, last if through is None else through))

    @router.get("/imports", response_model=Page[ImportJobSummary], tags=["directory"], summary="Asynchronous imports, newest first (directory writers)", name="list_imports")
    async def list_imports(caller: Caller, runtime: RuntimeDep, page: Pagination) -> Page[ImportJobSummary]:
        _require_writer(caller)
        docs = await jobs.list_jobs(runtime.db, before=paging.before(page), limit=page.limit + 1)
        return paging.newest_page_of(docs, page, lambda d: ImportJobSummary.model_validate(imports.report(d, None)))


def build_router() -> APIRouter:
    router = APIRouter(prefix="/api/v1/directory")
    _import_routes(router)
    for kind, model in ((TEAMS, schemas.Team), (PEOPLE, schemas.Person), (CASES, schemas.ChildCase)):
        _routes(router, kind, model)
    return router
